from freezegun import freeze_time

from odoo.tests import tagged

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupPartner(FollowupCommon):
    """The customer's follow-up position and its printable report."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.late = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")
        cls.late_usd = cls._create_invoice(
            cls.customer_be, 500.0, "2025-01-05", currency=cls.usd
        )
        cls.not_due = cls._create_invoice(cls.customer_be, 300.0, "2025-03-01")

    def test_totals_split_due_and_overdue(self):
        with freeze_time("2025-01-20"):
            partner = self.customer_be.with_company(self.company)
            partner.invalidate_recordset()
            # 500 USD at 1.25 USD per EUR count 400 EUR in company currency.
            self.assertAlmostEqual(partner.collection_amount_overdue, 1400.0)
            self.assertAlmostEqual(partner.collection_amount_due, 1700.0)

    def test_overdue_by_level_and_next_date_after_a_run(self):
        self._run_followup("2025-01-11")
        with freeze_time("2025-01-20"):
            partner = self.customer_be.with_company(self.company)
            partner.invalidate_recordset()
            self.assertIn(self.level_1.name, partner.collection_overdue_by_level)
            self.assertEqual(str(partner.collection_next_date), "2025-01-15")

    def test_report_lists_overdue_invoices_with_days_late(self):
        with freeze_time("2025-01-20"):
            html = (
                self.env["ir.actions.report"]
                ._render_qweb_html(
                    "receivables_followup.action_report_followup_partner",
                    self.customer_be.ids,
                )[0]
                .decode()
            )
        self.assertIn(self.late.name, html)
        self.assertIn(self.late_usd.name, html)
        self.assertNotIn(self.not_due.name, html)
        self.assertIn(">19<", html.replace(" ", "").replace("\n", ""))

    def test_report_button_opens_the_report(self):
        # Odoo first asks an administrator without a document layout to pick one.
        partner = self.customer_be.with_context(discard_logo_check=True)
        action = partner.action_open_followup_report()
        self.assertEqual(
            action["report_name"], "receivables_followup.report_followup_partner"
        )

    def test_policy_lists_the_customers_it_applies_to(self):
        """The default policy applies to the customers that name none; another
        policy to those that name it. A contact never invoiced is no customer."""
        self._create_invoice(self.customer_fr, 100.0, "2025-01-01")
        special = self._create_policy(self.company, "Key accounts", default=False)
        self.customer_be.with_company(self.company).collection_policy_id = special
        self.assertEqual(special.customer_count, 1)
        Partner = self.env["res.partner"]
        self.assertEqual(
            Partner.search(special.action_open_customers()["domain"]),
            self.customer_be,
        )
        default_customers = Partner.search(
            self.policy.action_open_customers()["domain"]
        )
        self.assertIn(self.customer_fr, default_customers)
        self.assertNotIn(self.customer_be, default_customers)
        self.assertEqual(self.policy.customer_count, len(default_customers))
