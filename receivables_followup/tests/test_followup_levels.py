from odoo.tests import tagged

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupLevels(FollowupCommon):
    """Which level an invoice reaches, and on which day.

    The policy's levels come 10, 30 and 60 days after the due date; the invoice
    below falls due on 1 January 2025, so the levels are due on 11 January,
    31 January and 2 March when each one is performed on its day.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")

    def _levels_done(self, invoice=None):
        invoice = invoice or self.invoice
        return invoice.followup_history_ids.filtered(
            lambda h: h.state == "done"
        ).level_id

    # Level 1 -----------------------------------------------------------
    def test_level_1_not_due_the_day_before(self):
        self._run_followup("2025-01-10")
        self.assertFalse(self.invoice.followup_history_ids)
        self.assertFalse(self.invoice.followup_level_id)
        self.assertEqual(str(self.invoice.followup_next_date), "2025-01-11")

    def test_level_1_performed_on_the_day(self):
        self._run_followup("2025-01-11")
        self.assertEqual(self._levels_done(), self.level_1)
        self.assertEqual(self.invoice.followup_level_id, self.level_1)
        self.assertEqual(str(self.invoice.followup_last_date), "2025-01-11")
        self.assertEqual(str(self.invoice.followup_next_date), "2025-01-31")

    def test_level_1_performed_the_day_after_when_missed(self):
        self._run_followup("2025-01-12")
        self.assertEqual(self._levels_done(), self.level_1)

    # Level 2 -----------------------------------------------------------
    def test_level_2_not_due_the_day_before(self):
        self._run_followup("2025-01-11")
        self._run_followup("2025-01-30")
        self.assertEqual(self._levels_done(), self.level_1)

    def test_level_2_performed_on_the_day(self):
        self._run_followup("2025-01-11")
        self._run_followup("2025-01-31")
        self.assertEqual(self._levels_done(), self.level_1 | self.level_2)
        self.assertEqual(self.invoice.followup_level_id, self.level_2)

    def test_level_2_performed_the_day_after_when_missed(self):
        self._run_followup("2025-01-11")
        self._run_followup("2025-02-01")
        self.assertEqual(self.invoice.followup_level_id, self.level_2)

    # Level 3 -----------------------------------------------------------
    def test_level_3_not_due_the_day_before(self):
        for day in ("2025-01-11", "2025-01-31", "2025-03-01"):
            self._run_followup(day)
        self.assertEqual(self.invoice.followup_level_id, self.level_2)

    def test_level_3_performed_on_the_day(self):
        for day in ("2025-01-11", "2025-01-31", "2025-03-02"):
            self._run_followup(day)
        self.assertEqual(self.invoice.followup_level_id, self.level_3)
        self.assertFalse(self.invoice.followup_next_date)

    def test_level_3_performed_the_day_after_when_missed(self):
        for day in ("2025-01-11", "2025-01-31", "2025-03-03"):
            self._run_followup(day)
        self.assertEqual(self.invoice.followup_level_id, self.level_3)

    def test_nothing_after_the_last_level(self):
        for day in ("2025-01-11", "2025-01-31", "2025-03-02", "2025-06-01"):
            self._run_followup(day)
        self.assertEqual(len(self.invoice.followup_history_ids), 3)

    # Pace --------------------------------------------------------------
    def test_very_late_invoice_climbs_one_rung_at_a_time(self):
        self._run_followup("2025-05-01")
        self.assertEqual(self._levels_done(), self.level_1)
        self._run_followup("2025-05-02")
        self.assertEqual(self._levels_done(), self.level_1)

    def test_next_rung_waits_the_gap_between_the_levels(self):
        self._run_followup("2025-05-01")
        self._run_followup("2025-05-20")
        self.assertEqual(self.invoice.followup_level_id, self.level_1)
        self._run_followup("2025-05-21")
        self.assertEqual(self.invoice.followup_level_id, self.level_2)

    # Amounts -----------------------------------------------------------
    def test_claim_below_the_level_minimum_is_held_back(self):
        policy = self._create_policy(
            self.company, "Minimum 500", min_amounts=(500, 0, 0), default=False
        )
        customer = self._create_customer("Small Buyer")
        customer.with_company(self.company).collection_policy_id = policy
        small = self._create_invoice(customer, 499.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self.assertFalse(small.followup_history_ids)
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        self.assertEqual(run.below_minimum_count, 1)

    def test_claim_reaching_the_level_minimum_is_reminded(self):
        policy = self._create_policy(
            self.company, "Minimum 500", min_amounts=(500, 0, 0), default=False
        )
        customer = self._create_customer("Small Buyer")
        customer.with_company(self.company).collection_policy_id = policy
        invoice = self._create_invoice(customer, 500.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self.assertEqual(invoice.followup_history_ids.level_id, policy.level_ids[0])

    def test_partially_paid_invoice_escalates_on_its_residual(self):
        self._register_payment(self.invoice, 600.0, "2025-01-05")
        self._run_followup("2025-01-11")
        history = self._history(self.customer_be)
        self.assertEqual(history.state, "done")
        self.assertAlmostEqual(history.amount_claimed, 400.0)
        body = self._emails_to(self.customer_be).body_html
        self.assertIn("400.00", body)
        self.assertNotIn("1,000.00", body)

    def test_paid_invoice_does_not_escalate(self):
        self._register_payment(self.invoice, 1000.0, "2025-01-05")
        self._run_followup("2025-01-11")
        self.assertFalse(self.invoice.followup_history_ids)
