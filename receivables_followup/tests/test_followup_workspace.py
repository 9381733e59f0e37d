"""The credit controller's workspace: the customer's Follow-up tab lists what a
controller works from, and the day's letters print as one PDF for the post
room."""

from freezegun import freeze_time

from odoo import Command
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

    def test_bulk_postpone_from_customers_delays_their_next_level(self):
        first = self._create_invoice(self.customer_fr, 500.0, "2025-02-20")
        second = self._create_invoice(self.customer_fr, 700.0, "2025-02-25")
        other = self._create_invoice(self.customer_be, 900.0, "2025-02-20")
        with freeze_time(TODAY):
            wizard = (
                self.env["followup.postpone"]
                .with_context(
                    active_model="res.partner", active_ids=self.customer_fr.ids
                )
                .create({"date": "2025-03-31", "reason": "Paying after its audit"})
            )
            self.assertEqual(wizard.move_ids, first | second)
            wizard.action_confirm()
        for invoice in first | second:
            self.assertEqual(str(invoice.followup_postponed_to), "2025-03-31")
            self.assertIn("Paying after its audit", invoice.message_ids[:1].body or "")
        self.assertFalse(other.followup_postponed_to)
        # the run of the day reminds the other customer only
        self._run_followup(TODAY)
        self.assertFalse(self._emails_to(self.customer_fr))
        self.assertEqual(len(self._emails_to(self.customer_be)), 1)
        # on the date, the follow-up resumes
        self._run_followup("2025-03-31 10:00:00")
        self.assertEqual(len(self._emails_to(self.customer_fr)), 1)

    def test_bulk_postpone_refuses_a_past_date_and_changes_nothing(self):
        invoice = self._create_invoice(self.customer_fr, 500.0, "2025-02-20")
        with freeze_time(TODAY):
            wizard = (
                self.env["followup.postpone"]
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"date": "2025-03-01", "reason": "Typo"})
            )
            with self.assertRaises(UserError):
                wizard.action_confirm()
        self.assertFalse(invoice.followup_postponed_to)

    def test_bulk_postpone_refuses_invoices_of_another_company(self):
        invoice = self._create_invoice(self.customer_fr, 500.0, "2025-02-20")
        other_company = self.setup_other_company(name="Other Postponer Co")["company"]
        stranger = self.env["res.users"].create(
            {
                "name": "Oscar Other",
                "login": "oscar_postpone",
                "company_id": other_company.id,
                "company_ids": [Command.set(other_company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("receivables_followup.group_followup_user").id,
                        ]
                    )
                ],
            }
        )
        notes = len(invoice.message_ids)
        with freeze_time(TODAY):
            # the ids come from a crafted call: the form would not offer them;
            # the stranger works in its own company, as the web client says
            wizard = (
                self.env["followup.postpone"]
                .with_user(stranger)
                .with_context(allowed_company_ids=other_company.ids)
                .create(
                    {
                        "move_ids": [Command.set(invoice.ids)],
                        "date": "2025-03-31",
                        "reason": "Not mine",
                    }
                )
            )
            # confirmed in a request of its own: the invoices read from the
            # database, where the stranger's record rules hide them
            wizard.invalidate_recordset()
            with self.assertRaisesRegex(UserError, "your companies"):
                wizard.action_confirm()
        self.env.invalidate_all()
        self.assertFalse(invoice.followup_postponed_to)
        self.assertEqual(len(invoice.message_ids), notes)

    def test_send_next_reminder_now_skips_the_wait(self):
        invoice = self._create_invoice(self.customer_fr, 500.0, "2025-02-20")
        self._run_followup(TODAY)
        self.assertEqual(invoice.followup_level_id, self.level_1)
        controller = self.env["res.users"].create(
            {
                "name": "Camille Credit",
                "login": "camille_send_now",
                "email": "camille@company.example",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "groups_id": [
                    (
                        6,
                        0,
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("receivables_followup.group_followup_user").id,
                        ],
                    )
                ],
            }
        )
        # the second level is due 30 days after the due date; the controller
        # sends it the next morning
        with freeze_time("2025-03-11 09:00:00"):
            action = (
                self.customer_fr.with_user(controller)
                .with_company(self.company)
                .action_followup_send_now()
            )
        self.env.invalidate_all()
        sent = self.env["followup.history"].browse(action["res_id"])
        self.assertEqual(sent.state, "done")
        self.assertEqual(sent.origin, "manual")
        self.assertEqual(sent.user_id, controller)
        self.assertEqual(sent.level_id, self.level_2)
        self.assertEqual(str(sent.date), "2025-03-11")
        self.assertFalse(sent.run_id)
        self.assertEqual(invoice.followup_level_id, self.level_2)
        self.assertEqual(len(self._emails_to(self.customer_fr)), 2)
        # the daily run of that day still runs, and sends nothing more to it
        self._run_followup("2025-03-11 10:00:00")
        self.assertEqual(len(self._emails_to(self.customer_fr)), 2)

    def test_send_now_with_nothing_to_send_says_why(self):
        self._create_invoice(self.customer_fr, 500.0, "2025-04-30")
        with freeze_time(TODAY), self.assertRaisesRegex(UserError, "Nothing to send"):
            self.customer_fr.with_company(self.company).action_followup_send_now()
        self.assertFalse(self._history(self.customer_fr))
