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
