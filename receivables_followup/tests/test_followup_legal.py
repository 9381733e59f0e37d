import io
from datetime import date
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupLegalAmounts(FollowupCommon):
    """French late-payment interest and recovery indemnity on the formal notice.

    10,000.00 EUR due 2025-05-15; the second level was performed on 2025-06-14,
    so the formal notice (60 days) goes out on 2025-07-14. Interest runs from
    16 May to 14 July with the shipped rates (ECB + 10 points):
    - 16 May - 30 June: 46 days at 13.15 %: 10,000 x 13.15 % x 46 / 365 = 165.72603
    - 1 July - 14 July: 14 days at 12.15 %: 10,000 x 12.15 % x 14 / 365 = 46.60274
    Total 212.32877, rounded 212.33 EUR; indemnity EUR 40 for the one invoice.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._create_invoice(cls.customer_fr, 10000.0, "2025-05-15")
        cls.invoice._followup_mark_performed(cls.level_2, date(2025, 6, 14), {})

    def _formal_notice(self):
        self._run_followup("2025-07-14")
        history = self._history(self.customer_fr)
        self.assertEqual(history.level_id, self.level_3)
        return history

    def test_formal_notice_carries_interest_and_indemnity(self):
        history = self._formal_notice()
        self.assertAlmostEqual(history.interest_amount, 212.33)
        self.assertAlmostEqual(history.indemnity_amount, 40.0)

    def test_formal_notice_email_shows_the_legal_amounts(self):
        self._formal_notice()
        body = self._emails_to(self.customer_fr).body_html
        self.assertIn("L441-10", body)
        self.assertIn("212,33", body)
        self.assertIn("40,00", body)

    def test_one_indemnity_per_invoice(self):
        second = self._create_invoice(self.customer_fr, 500.0, "2025-05-15")
        second._followup_mark_performed(self.level_2, date(2025, 6, 14), {})
        history = self._formal_notice()
        self.assertAlmostEqual(history.indemnity_amount, 80.0)

    def test_company_rate_replaces_the_shared_rate(self):
        """8 % from 2025-01-01: 10,000 x 8 % x 60 / 365 = 131.50685, i.e. 131.51."""
        self.env["followup.interest.rate"].create(
            {
                "date_from": "2025-01-01",
                "company_id": self.company.id,
                "reference_rate": 0.0,
                "margin": 8.0,
            }
        )
        self.assertAlmostEqual(self._formal_notice().interest_amount, 131.51)

    def test_legal_amounts_not_invoiced_by_default(self):
        self.assertFalse(self._formal_notice().legal_invoice_ids)

    def test_legal_amounts_invoiced_when_the_company_asks(self):
        self.company.followup_invoice_legal_amounts = True
        invoice = self._formal_notice().legal_invoice_ids
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.partner_id, self.customer_fr)
        self.assertEqual(invoice.company_id, self.company)
        self.assertFalse(invoice.invoice_line_ids.tax_ids)
        self.assertAlmostEqual(invoice.amount_total, 252.33)

    def test_reminders_before_the_formal_notice_carry_no_legal_amounts(self):
        other = self._create_invoice(self.customer_be, 1000.0, "2025-05-15")
        self._run_followup("2025-05-25")
        history = other.followup_history_ids
        self.assertEqual(history.level_id, self.level_1)
        self.assertFalse(history.interest_amount)
        self.assertFalse(history.indemnity_amount)

    def test_formal_notice_letter_is_attached_to_the_partner(self):
        self.level_3.print_letter = True
        history = self._formal_notice()
        self.assertTrue(history.sent_letter)
        self.assertEqual(history.attachment_id.res_model, "res.partner")
        self.assertEqual(history.attachment_id.res_id, self.customer_fr.id)
        self.assertIn(history.attachment_id.mimetype, ("application/pdf", "text/html"))

    def test_letters_of_one_batch_are_attached_each_to_its_partner(self):
        """The letters of a run are rendered by one wkhtmltopdf process and
        split per customer: a batch that fell back to one process per letter
        would call wkhtmltopdf three times."""
        self.level_3.print_letter = True
        other = self._create_invoice(self.customer_be, 2000.0, "2025-05-15")
        other._followup_mark_performed(self.level_2, date(2025, 6, 14), {})
        Report = type(self.env["ir.actions.report"])
        with patch.object(
            Report,
            "_run_wkhtmltopdf",
            autospec=True,
            side_effect=Report._run_wkhtmltopdf,
        ) as calls:
            self._run_followup("2025-07-14")
        self.assertEqual(calls.call_count, 1)
        for customer in (self.customer_fr, self.customer_be):
            history = self._history(customer)
            self.assertEqual(history.attachment_id.res_id, customer.id, customer.name)
            self.assertTrue(history.attachment_id.raw, customer.name)
        self.assertNotEqual(
            self._history(self.customer_fr).attachment_id.raw,
            self._history(self.customer_be).attachment_id.raw,
        )
        for customer in (self.customer_fr, self.customer_be):
            letter = self._history(customer).attachment_id
            self.assertEqual(letter.mimetype, "application/pdf")
            # PyPDF2 separates words with tabs
            text = " ".join(
                word
                for page in PdfFileReader(io.BytesIO(letter.raw)).pages
                for word in (page.extract_text() or "").split()
            )
            self.assertIn(customer.name, text)
            others = (self.customer_fr | self.customer_be) - customer
            self.assertNotIn(others.name, text)
