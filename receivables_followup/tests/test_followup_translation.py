from odoo.tests import tagged

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupTranslation(FollowupCommon):
    """Reminders go out in the customer's language, with the French shipped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.module.module"]._load_module_terms(
            ["receivables_followup"], ["fr_FR"], overwrite=True
        )

    def test_french_customer_gets_the_reminder_in_french(self):
        self._create_invoice(self.customer_fr, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        email = self._emails_to(self.customer_fr)
        self.assertEqual(len(email), 1)
        self.assertIn("Bonjour", email.body_html)
        self.assertIn("Jours de retard", email.body_html)

    def test_english_customer_gets_the_reminder_in_english(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        email = self._emails_to(self.customer_be)
        self.assertIn("Dear", email.body_html)
        self.assertIn("Days Overdue", email.body_html)

    def test_standard_policy_speaks_every_language_of_the_database(self):
        company = self.env["res.company"].create({"name": "Nouvelle Société"})
        policy = self.env["followup.policy"]._default_for_company(company)
        levels = policy.level_ids.sorted("delay").with_context(lang="fr_FR")
        self.assertEqual(policy.with_context(lang="fr_FR").name, "Relance standard")
        self.assertEqual(levels[0].name, "Relance amiable")
        self.assertEqual(levels.with_context(lang="en_US")[0].name, "Friendly reminder")

    def test_language_loaded_later_translates_the_standard_policy(self):
        company = self.env["res.company"].create({"name": "Later Co"})
        level = self.env["followup.policy"]._default_for_company(company).level_ids[:1]
        level.with_context(lang="fr_FR").name = level.with_context(lang="en_US").name
        self.env["ir.module.module"]._load_module_terms(
            ["receivables_followup"], ["fr_FR"]
        )
        self.assertEqual(level.with_context(lang="fr_FR").name, "Relance amiable")

    def test_a_renamed_level_keeps_its_name(self):
        company = self.env["res.company"].create({"name": "Custom Co"})
        level = self.env["followup.policy"]._default_for_company(company).level_ids[:1]
        level.with_context(lang="fr_FR").name = "Petit rappel"
        self.env["ir.module.module"]._load_module_terms(
            ["receivables_followup"], ["fr_FR"]
        )
        self.assertEqual(level.with_context(lang="fr_FR").name, "Petit rappel")

    def test_french_customer_reads_its_invoices_stage_in_french(self):
        self._create_invoice(self.customer_fr, 1000.0, "2025-01-01")
        self.level_1.with_context(lang="fr_FR").name = "Rappel"
        self._run_followup("2025-01-11")
        self.assertIn("Rappel", self._emails_to(self.customer_fr).body_html)
