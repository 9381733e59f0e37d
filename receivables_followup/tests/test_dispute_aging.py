"""Dispute Aging: unresolved disputes by how long they have been open, in age
buckets counted on the day the report is read."""

from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common_dispute import DisputeCommon


@tagged("post_install", "-at_install")
class TestDisputeAging(DisputeCommon):
    def _dispute_opened_days_ago(self, days, amount):
        invoice = self._create_invoice()
        dispute = self._open(invoice, amount=amount)
        opened = fields.Date.context_today(dispute) - timedelta(days=days)
        # the opening day is the engine's: set in SQL to age the dispute
        self.env.cr.execute(
            "UPDATE followup_dispute SET date_opened = %s WHERE id = %s",
            [opened, dispute.id],
        )
        dispute.invalidate_recordset(["date_opened"])
        return dispute

    def test_disputes_fall_in_their_age_bucket(self):
        """Opened 0, 30, 31, 75 and 200 days ago, 100 to 500 disputed: 0-30
        holds 100 + 200, 31-60 300, 61-90 400, over 90 500; a resolved dispute
        is not unresolved; a dispute resolved after 10 days is 10 days old."""
        for days, amount in ((0, 100.0), (30, 200.0), (31, 300.0), (75, 400.0)):
            self._dispute_opened_days_ago(days, amount)
        self._dispute_opened_days_ago(200, 500.0)
        closed = self._dispute_opened_days_ago(10, 50.0)
        closed.with_user(self.followup_user).action_cancel()
        Aging = self.env["followup.dispute.aging"].with_user(self.followup_user)
        Aging.env.flush_all()
        groups = Aging._read_group(
            [("state", "in", ("open", "under_review"))],
            ["age_bucket"],
            ["amount_disputed:sum", "__count"],
        )
        self.assertEqual(
            {bucket: (amount, count) for bucket, amount, count in groups},
            {
                "0_30": (200.0 + 100.0, 2),
                "31_60": (300.0, 1),
                "61_90": (400.0, 1),
                "91_plus": (500.0, 1),
            },
        )
        row = Aging.search([("dispute_id", "=", closed.id)])
        self.assertEqual(row.state, "cancelled")
        self.assertEqual(row.age_days, 10)

    def test_another_company_sees_none(self):
        self._dispute_opened_days_ago(5, 100.0)
        self.env.flush_all()
        other_company = self.setup_other_company(name="Aging Co")["company"]
        outsider = new_test_user(
            self.env,
            login="aging_outsider",
            groups="receivables_followup.group_followup_user",
            company_id=other_company.id,
            company_ids=other_company.ids,
        )
        Aging = self.env["followup.dispute.aging"]
        self.assertTrue(Aging.with_user(self.followup_user).search([]))
        self.assertFalse(Aging.with_user(outsider).search([]))
