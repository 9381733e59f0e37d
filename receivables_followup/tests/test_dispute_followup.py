from freezegun import freeze_time

from odoo import SUPERUSER_ID
from odoo.tests import tagged

from .common_dispute import DisputeCommon


@tagged("post_install", "-at_install")
class TestDisputeFollowupRun(DisputeCommon):
    """A dispute pauses the follow-up run; closing it resumes without a burst.

    The company's default policy: levels 7 and 21 days (emails), 45 (formal notice,
    reviewed by a person) and 75 days after the due date.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        policy = cls.env["followup.policy"]._default_for_company(cls.company)
        cls.level_1, cls.level_2, cls.level_3, cls.level_4 = policy.level_ids.sorted(
            "delay"
        )

    def setUp(self):
        super().setUp()
        self.invoice = self._create_invoice(due="2024-01-01", invoice_date="2023-12-01")

    def _run(self, day):
        """Run the scheduled follow-up on ``day`` until nothing remains."""
        Run = self.env(user=SUPERUSER_ID, context={})["followup.run"]
        with freeze_time(day):
            for _call in range(20):
                _done, remaining = Run._cron_run_followup()
                if not remaining:
                    break
        self.env.invalidate_all()

    def _levels_done(self, invoice):
        actions = self.env["followup.history"].search(
            [("move_ids", "in", invoice.ids), ("state", "in", ("done", "to_review"))],
            order="date, id",
        )
        return [(str(action.date), action.level_id) for action in actions]

    def _open_on(self, day, invoice=None, amount=None):
        with freeze_time(day):
            return self._open(invoice or self.invoice, amount=amount)

    def test_undisputed_invoice_escalates_as_control(self):
        self._run("2024-01-08")
        self.assertEqual(
            self._levels_done(self.invoice), [("2024-01-08", self.level_1)]
        )

    def test_disputed_invoice_does_not_escalate(self):
        self._open_on("2024-01-05")
        self._run("2024-01-08")
        self._run("2024-01-22")
        self.assertEqual(self._levels_done(self.invoice), [])
        self.assertEqual(self.invoice.followup_status, "paused_dispute")

    def test_reminder_planned_before_the_dispute_is_not_sent(self):
        with freeze_time("2024-01-08"):
            Run = self.env(user=SUPERUSER_ID, context={})["followup.run"]
            Run._plan_companies(self.company)
            self._open(self.invoice)
            Run._perform_pending(self.company)
        planned = self.env["followup.history"].search(
            [("move_ids", "in", self.invoice.ids)]
        )
        self.assertEqual(planned.mapped("state"), ["skipped"])
        self.assertEqual(self._levels_done(self.invoice), [])

    def test_rejected_dispute_resumes_at_next_level_without_burst(self):
        self._run("2024-01-08")
        dispute = self._open_on("2024-01-10")
        self._run("2024-01-22")  # level 2 would have been due
        with freeze_time("2024-03-01"):  # levels 2 and 3 overdue by now
            dispute.action_reject("The goods were delivered as ordered.")
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self.assertEqual(self.invoice.followup_level_id, self.level_1)
        self._run("2024-03-01")
        self._run("2024-03-14")
        self.assertEqual(
            self._levels_done(self.invoice),
            [("2024-01-08", self.level_1)],
            "no catch-up reminder right after the rejection",
        )
        # The policy's gap between level 1 (7 days) and level 2 (21), from the resume.
        self._run("2024-03-15")
        self.assertEqual(
            self._levels_done(self.invoice),
            [("2024-01-08", self.level_1), ("2024-03-15", self.level_2)],
        )

    def test_dispute_rejected_before_any_level_starts_at_first_level(self):
        dispute = self._open_on("2023-12-20")
        with freeze_time("2024-03-01"):
            dispute.action_reject("No ground.")
        self._run("2024-03-01")
        self.assertEqual(
            self._levels_done(self.invoice), [("2024-03-01", self.level_1)]
        )

    def test_cancelled_dispute_resumes_from_where_it_stopped(self):
        self._run("2024-01-08")
        dispute = self._open_on("2024-01-10")
        with freeze_time("2024-02-20"):
            dispute.action_cancel()
        self._run("2024-02-20")
        self._run("2024-03-05")
        self.assertEqual(
            self._levels_done(self.invoice),
            [("2024-01-08", self.level_1), ("2024-03-05", self.level_2)],
        )

    def test_partial_dispute_keeps_escalating_undisputed_part_when_company_allows(self):
        self.company.followup_partial_dispute_escalates = True
        self._open_on("2024-01-05", amount=230.0)
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self._run("2024-01-08")
        action = self.env["followup.history"].search(
            [("move_ids", "in", self.invoice.ids)]
        )
        self.assertEqual(action.level_id, self.level_1)
        self.assertAlmostEqual(action.amount_claimed, 920.0)

    def test_partial_dispute_pauses_invoice_when_company_does_not_allow(self):
        self.company.followup_partial_dispute_escalates = False
        self._open_on("2024-01-05", amount=230.0)
        self.assertEqual(self.invoice.followup_status, "paused_dispute")
        self._run("2024-01-08")
        self.assertEqual(self._levels_done(self.invoice), [])

    def test_whole_dispute_pauses_even_when_partial_disputes_escalate(self):
        self.company.followup_partial_dispute_escalates = True
        self._open_on("2024-01-05")
        self._run("2024-01-08")
        self.assertEqual(self._levels_done(self.invoice), [])

    def test_partial_credit_note_leaves_the_rest_escalating_from_today(self):
        self._run("2024-01-08")
        dispute = self._open_on("2024-01-10", amount=230.0)
        with freeze_time("2024-02-01"):
            dispute.action_resolve_credit_note()
        self.assertEqual(self.invoice.amount_residual, 920.0)
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self._run("2024-02-14")
        self.assertEqual(len(self._levels_done(self.invoice)), 1)
        self._run("2024-02-15")
        action = self.env["followup.history"].search(
            [("move_ids", "in", self.invoice.ids), ("level_id", "=", self.level_2.id)]
        )
        self.assertAlmostEqual(action.amount_claimed, 920.0)
