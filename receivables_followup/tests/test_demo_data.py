from odoo import fields
from odoo.tests import TransactionCase, tagged


@tagged("-standard", "receivables_followup_demo", "post_install", "-at_install")
class TestDemoData(TransactionCase):
    """Runs only on a database installed with demo data (second test stage)."""

    def test_demo_invoices_cover_every_overdue_stage_in_two_currencies(self):
        invoices = self.env["account.move"].search(
            [
                ("partner_id.name", "in", self._demo_customers()),
                ("move_type", "=", "out_invoice"),
            ]
        )
        today = fields.Date.today()
        overdue_days = {(today - move.invoice_date_due).days for move in invoices}
        levels = (
            self.env["followup.policy"]._default_for_company(self.env.company).level_ids
        )
        for level in levels:
            self.assertTrue(
                any(days >= level.delay for days in overdue_days), level.name
            )
        self.assertTrue(
            any(days < 0 for days in overdue_days), "an invoice not yet due"
        )
        self.assertEqual(len(invoices.currency_id), 2)
        self.assertIn("excluded", invoices.mapped("followup_status"))
        self.assertIn("paused_promise", invoices.mapped("followup_status"))
        self.assertIn("paused_dispute", invoices.mapped("followup_status"))

    def test_demo_customers_in_france_and_elsewhere(self):
        partners = self.env["res.partner"].search(
            [("name", "in", self._demo_customers())]
        )
        countries = partners.country_id.mapped("code")
        self.assertIn("FR", countries)
        self.assertGreater(len(countries), 2)

    def test_followup_run_on_demo_data_plans_reminders(self):
        run = (
            self.env["followup.run"]
            .sudo()
            .with_context(mail_notify_force_send=False)
            ._plan_companies(self.env.company)
        )
        self.assertGreater(run.planned_count, 0)

    @staticmethod
    def _demo_customers():
        return [
            "Boulangerie Martin SARL",
            "Transports Lefèvre SAS",
            "Hansen Maschinenbau GmbH",
            "Northwind Traders Ltd",
            "Acme Supplies Inc.",
        ]

    def test_demo_agency_is_ready_to_book_what_it_collects(self):
        agency = self.env.ref("receivables_followup.agency_demo_debitura")
        self.assertTrue(agency.is_test)
        self.assertTrue(agency.journal_id)
        self.assertEqual(agency.clearing_account_id.account_type, "asset_current")
        self.assertTrue(agency.clearing_account_id.reconcile)
        self.assertTrue(agency.fee_account_id)
        self.assertTrue(agency.agency_partner_id)

    def test_demo_dispute_is_assigned_to_a_person(self):
        dispute = self.env.ref("receivables_followup.dispute_demo_hansen")
        self.assertEqual(dispute.user_id, self.env.ref("base.user_admin"))

    def test_demo_reminders_can_be_paid(self):
        """The demo's reminders carry the company's IBAN and a SEPA QR code, and
        their "Pay" links reach Odoo's demo payment provider."""
        company = self.env.ref("base.main_company")
        provider = self.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", company.id)]
        )
        self.assertEqual(provider.state, "test")
        self.assertTrue(company.alias_domain_id.catchall_email)
        self.env["followup.run"].sudo()._plan_companies(company)
        action = self.env["followup.history"].search(
            [
                (
                    "partner_id",
                    "=",
                    self.env.ref("receivables_followup.partner_demo_boulangerie").id,
                ),
                ("state", "=", "pending"),
            ],
            limit=1,
        )
        [payment] = action._followup_payments()
        self.assertEqual(payment["currency"], "EUR")
        self.assertIn("FR76", payment["account_number"])
        self.assertIn("EUR", payment["qr_url"])

    def test_demo_has_a_follow_up_history(self):
        """The demo database opens on weeks of follow-up already performed."""
        company = self.env.ref("base.main_company")
        runs = self.env["followup.run"].search([("company_id", "=", company.id)])
        self.assertGreaterEqual(len(runs), 3)
        done = self.env["followup.history"].search(
            [("company_id", "=", company.id), ("state", "=", "done")]
        )
        self.assertGreater(len(done), 2)
        self.assertGreater(len(done.level_id), 1, "several levels reached")
        self.assertGreater(len(set(done.mapped("date"))), 1, "on several days")

    def test_demo_french_company_has_formal_notices_to_review(self):
        """A French company in euros, with the French chart where its
        localisation is installed (the run command's database has it), and
        formal notices carrying the French late-payment amounts."""
        company = self.env.ref("receivables_followup.company_demo_fr")
        self.assertEqual(company.currency_id, self.env.ref("base.EUR"))
        installed = self.env["ir.module.module"].search_count(
            [("name", "=", "l10n_fr_account"), ("state", "=", "installed")]
        )
        self.assertEqual(company.chart_template, "fr" if installed else "generic_coa")
        notices = self.env["followup.history"].search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "to_review"),
                ("level_id.is_formal_notice", "=", True),
            ]
        )
        self.assertTrue(notices)
        self.assertEqual(set(notices.mapped("legal_regime")), {"fr"})
        self.assertTrue(all(notice.indemnity_amount >= 40 for notice in notices))
        sent = self.env["followup.history"].search(
            [("company_id", "=", company.id), ("state", "=", "done")]
        )
        self.assertGreater(len(set(sent.mapped("date"))), 2)
        disputes = self.env["followup.dispute"].search(
            [("company_id", "=", company.id)]
        )
        self.assertEqual(
            sorted(disputes.mapped("state")), ["open", "resolved"], disputes
        )
        self.assertEqual(disputes.user_id, self.env.ref("base.user_admin"))
        promises = self.env["followup.promise"].search(
            [("company_id", "=", company.id)]
        )
        self.assertEqual(sorted(promises.mapped("state")), ["broken", "kept"])
        kept = promises.filtered(lambda promise: promise.state == "kept")
        self.assertIn(kept.move_id.payment_state, ("paid", "in_payment"))
