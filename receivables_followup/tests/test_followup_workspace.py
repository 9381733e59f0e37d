"""The credit controller's workspace: the customer's Follow-up tab lists what a
controller works from, and the day's letters print as one PDF for the post
room."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.ir_actions_report import _page_texts
from .common import FollowupCommon

TODAY = "2025-03-10 10:00:00"


@tagged("post_install", "-at_install")
class TestFollowupWorkspace(FollowupCommon):
    def test_follow_up_tab_lists_open_invoices_and_reminders(self):
        overdue = self._create_invoice(self.customer_fr, 1150.0, "2025-02-20")
        not_due = self._create_invoice(self.customer_fr, 300.0, "2025-04-30")
        paid = self._create_invoice(self.customer_fr, 200.0, "2025-02-01")
        self._register_payment(paid, 200.0)
        self._create_invoice(self.customer_be, 990.0, "2025-02-20")
        self._run_followup(TODAY)
        partner = self.customer_fr.with_company(self.company)
        self.assertEqual(partner.collection_invoice_ids, overdue | not_due)
        history = partner.collection_history_ids
        self.assertEqual(len(history), 1)
        self.assertEqual(history.state, "done")
        self.assertIn(overdue, history.move_ids)

    def test_the_days_letters_print_as_one_pdf_in_customer_order(self):
        self.level_1.print_letter = True
        for customer in (self.customer_us, self.customer_fr, self.customer_be):
            self._create_invoice(customer, 500.0, "2025-02-20")
        self._run_followup(TODAY)
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        self.assertEqual(run.letter_count, 3)
        action = run.action_print_letters()
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        merged = self.env["ir.attachment"].browse(attachment_id)
        # pdftotext: the test command installs poppler-utils
        texts = _page_texts(merged.raw)
        self.assertEqual(len(texts), 3)
        order = [
            next(i for i, text in enumerate(texts) if customer.name in text)
            for customer in (self.customer_us, self.customer_be, self.customer_fr)
        ]
        # Boston Imports, Brussels Trading, Dupont SARL: by name
        self.assertEqual(order, [0, 1, 2])

    def test_no_letter_no_print(self):
        self._create_invoice(self.customer_fr, 500.0, "2025-02-20")
        self._run_followup(TODAY)
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        with self.assertRaises(UserError):
            run.action_print_letters()
