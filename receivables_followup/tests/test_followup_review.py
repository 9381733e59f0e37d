from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupReview(FollowupCommon):
    """Levels that need a person: prepared by the run, then sent, skipped or
    postponed by a credit controller."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.level_1.manual_review = True
        cls.invoice = cls._create_invoice(cls.customer_fr, 1000.0, "2025-01-01")

    def setUp(self):
        super().setUp()
        self._run_followup("2025-01-11")
        self.action = self._history(self.customer_fr)

    def test_manual_level_is_prepared_for_review(self):
        self.assertEqual(self.action.state, "to_review")
        self.assertFalse(self._emails_to(self.customer_fr))
        self.assertFalse(self.invoice.followup_level_id)

    def test_invoice_waiting_for_review_needs_manual_action(self):
        self.assertEqual(self.invoice.followup_status, "manual")

    def test_next_run_does_not_plan_the_invoice_again(self):
        self._run_followup("2025-01-12")
        self.assertEqual(len(self._history(self.customer_fr)), 1)

    def test_partner_without_automatic_follow_up_is_prepared_for_review(self):
        self.level_1.manual_review = False
        self.customer_be.with_company(self.company).collection_no_auto = True
        self._create_invoice(self.customer_be, 500.0, "2025-01-05")
        self._run_followup("2025-01-15")
        self.assertEqual(self._history(self.customer_be).state, "to_review")
        self.assertFalse(self._emails_to(self.customer_be))

    def test_preview_renders_the_message(self):
        self.assertIn(self.company.name, self.action.preview_subject)
        self.assertIn(self.invoice.name, self.action.preview_body)
        # the preview is sanitised, which writes no-break spaces as entities
        body = str(self.action.preview_body).replace("&nbsp;", " ")
        body = body.replace("\u202f", " ")
        body = body.replace("\xa0", " ")
        self.assertIn("1 000,00", body)

    def test_send_performs_the_reminder(self):
        with freeze_time("2025-01-12"):
            self.action.action_review_send()
        self.assertEqual(self.action.state, "done")
        self.assertEqual(self.action.user_id, self.env.user)
        self.assertEqual(self.action.origin, "manual")
        self.assertEqual(len(self._emails_to(self.customer_fr)), 1)
        self.assertEqual(self.invoice.followup_level_id, self.level_1)
        self.assertEqual(self.invoice.followup_status, "in_followup")

    def test_skip_counts_the_level_without_sending(self):
        with freeze_time("2025-01-12"):
            self.action._review_skip("Customer called: pays this week")
        self.assertEqual(self.action.state, "skipped")
        self.assertFalse(self._emails_to(self.customer_fr))
        self.assertEqual(self.invoice.followup_level_id, self.level_1)
        # next level: 30 days after the due date, and 20 days after the skip
        self.assertEqual(str(self.invoice.followup_next_date), "2025-02-01")

    def test_postpone_proposes_the_level_again_on_the_date(self):
        with freeze_time("2025-01-12"):
            action = self.action.action_review_postpone()
            wizard = Form(
                self.env[action["res_model"]].with_context(**action["context"])
            )
            wizard.date = "2025-01-20"
            wizard.save().action_confirm()
        self.assertEqual(self.action.state, "postponed")
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self._run_followup("2025-01-19")
        self.assertEqual(len(self._history(self.customer_fr)), 1)
        self._run_followup("2025-01-20")
        self.assertEqual(
            self._history(self.customer_fr).mapped("state"), ["to_review", "postponed"]
        )

    def test_postpone_to_a_past_date_is_refused(self):
        wizard = self.env["followup.review.postpone"].create(
            {"history_ids": self.action.ids, "date": "2025-01-11"}
        )
        with freeze_time("2025-01-12"), self.assertRaises(UserError):
            wizard.action_confirm()

    def test_only_reminders_waiting_for_review_can_be_sent(self):
        with freeze_time("2025-01-12"):
            self.action._review_skip("Customer called: pays this week")
            with self.assertRaises(UserError):
                self.action.action_review_send()


@tagged("post_install", "-at_install")
class TestFollowupReviewQueue(FollowupCommon):
    """The review queue cannot mislead: one item per customer, changes since
    planning explained, skipping with a reason, bulk decisions, edited text."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.level_1.manual_review = True
        cls.level_2.manual_review = True
        cls.first = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")
        cls.second = cls._create_invoice(cls.customer_be, 300.0, "2024-12-01")
        cls.second._followup_mark_performed(
            cls.level_1, fields.Date.to_date("2024-12-11"), {}
        )
        cls.other = cls._create_invoice(cls.customer_us, 500.0, "2025-01-01")

    def setUp(self):
        super().setUp()
        self._run_followup("2025-01-11")
        self.action = self._history(self.customer_be)

    def _wizard(self, action_dict):
        return self.env[action_dict["res_model"]].with_context(**action_dict["context"])

    def test_customer_at_two_levels_waits_as_one_item(self):
        self.assertEqual(len(self.action), 1)
        self.assertEqual(self.action.level_id, self.level_2)
        self.assertEqual(self.action.move_ids, self.first | self.second)

    def test_customer_waiting_for_review_gets_nothing_else_meanwhile(self):
        self._create_invoice(self.customer_be, 50.0, "2025-01-02")
        self._run_followup("2025-01-15")
        self.assertEqual(len(self._history(self.customer_be)), 1)
        self.assertFalse(self._emails_to(self.customer_be))

    def test_skip_asks_for_a_reason_and_records_it(self):
        action = self.action.action_review_skip()
        self.assertEqual(action["res_model"], "followup.review.skip")
        with freeze_time("2025-01-12"):
            self._wizard(action).create(
                {"reason": "Paid by cheque, in the post"}
            ).action_confirm()
        self.assertEqual(self.action.state, "skipped")
        self.assertEqual(self.action.note, "Paid by cheque, in the post")
        self.assertEqual(self.first.followup_level_id, self.level_1)
        self.assertEqual(self.second.followup_level_id, self.level_2)
        note = self.first.message_ids.filtered(lambda m: "skipped" in (m.body or ""))
        self.assertIn("Paid by cheque", note.body)

    def test_send_after_a_payment_explains_and_offers_to_drop(self):
        self._register_payment(self.first, 1000.0, "2025-01-11")
        self._register_payment(self.second, 300.0, "2025-01-11")
        with freeze_time("2025-01-12"):
            action = self.action.action_review_send()
            wizard = self._wizard(action).create({})
            self.assertIn(self.first.name, wizard.changes)
            self.assertIn("paid", wizard.changes)
            self.assertFalse(wizard.can_send)
            wizard.action_drop()
        self.assertEqual(self.action.state, "skipped")
        self.assertIn("changed", self.action.note)
        self.assertFalse(self._emails_to(self.customer_be))

    def test_send_after_a_dispute_sends_for_the_invoices_still_open(self):
        self.env["followup.dispute"]._open_dispute(
            self.customer_be, {self.second: None}, "other"
        )
        with freeze_time("2025-01-12"):
            action = self.action.action_review_send()
            wizard = self._wizard(action).create({})
            self.assertIn("disputed", wizard.changes)
            self.assertTrue(wizard.can_send)
            wizard.action_send()
        self.assertEqual(self.action.state, "done")
        self.assertEqual(self.action.move_ids, self.first)
        body = self._emails_to(self.customer_be).body_html
        self.assertIn(self.first.name, body)
        self.assertNotIn(self.second.name, body)

    def test_selected_reminders_are_sent_together(self):
        actions = self.env["followup.history"].search([("state", "=", "to_review")])
        self.assertEqual(actions.partner_id, self.customer_be | self.customer_us)
        with freeze_time("2025-01-12"):
            actions.action_review_send()
        self.assertEqual(set(actions.mapped("state")), {"done"})
        self.assertEqual(len(self._emails_to(self.customer_us)), 1)

    def test_selected_reminders_are_skipped_and_postponed_together(self):
        actions = self.env["followup.history"].search([("state", "=", "to_review")])
        action = actions.action_review_postpone()
        with freeze_time("2025-01-12"):
            self._wizard(action).create({"date": "2025-01-20"}).action_confirm()
        self.assertEqual(
            set(actions.mapped("postponed_to")), {fields.Date.to_date("2025-01-20")}
        )

    def test_edited_text_is_what_the_customer_gets(self):
        action = self.action.action_review_edit()
        wizard = self._wizard(action).create({})
        self.assertIn(self.first.name, wizard.body)
        wizard.body = "<p>Dear Sir, as agreed on the phone: please pay this week.</p>"
        with freeze_time("2025-01-12"):
            wizard.action_send()
        email = self._emails_to(self.customer_be)
        self.assertIn("as agreed on the phone", email.body_html)
        self.assertEqual(self.action.state, "done")

    def test_sending_dates_the_reminder_the_day_it_leaves(self):
        with freeze_time("2025-01-14"):
            self.action.action_review_send()
        self.assertEqual(str(self.action.date), "2025-01-14")
        self.assertEqual(self.first.followup_last_date, self.action.date)


@tagged("post_install", "-at_install")
class TestFollowupLetter(FollowupCommon):
    """A letter can be posted: the recipient's full address, where the envelope's
    window shows it; no address, no letter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.level_1.print_letter = True
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Claire Lefèvre",
                "parent_id": cls.customer_fr.id,
                "type": "invoice",
                "email": "claire@customer.example",
                "street": "12 rue de la Paix",
                "zip": "75002",
                "city": "Paris",
                "country_id": cls.env.ref("base.fr").id,
            }
        )
        cls.invoice = cls._create_invoice(cls.customer_fr, 1000.0, "2025-01-01")

    def _letter_html(self, action):
        report = self.env.ref("receivables_followup.action_report_followup_letter")
        html, _type = report._render_qweb_html(report, action.ids)
        return html.decode()

    def test_letter_shows_the_invoicing_contacts_full_address_in_the_window(self):
        self._run_followup("2025-01-11")
        action = self._history(self.customer_fr)
        self.assertEqual(action.state, "done")
        html = self._letter_html(action)
        window = html.split("o_followup_window_address", 1)[1].split("</div>\n", 1)[0]
        for expected in (
            "Dupont SARL",
            "Claire Lefèvre",
            "12 rue de la Paix",
            "75002",
            "Paris",
            "France",
        ):
            self.assertIn(expected, html)
        self.assertIn("left: 50.0%", window)

    def test_letter_dated_without_a_place_when_the_company_has_no_city(self):
        self._run_followup("2025-01-11")
        action = self._history(self.customer_fr)
        self.company.city = "Lyon"
        self.assertIn("Lyon, ", self._letter_html(action))
        self.company.city = False
        html = self._letter_html(action)
        date_line = html.split('class="text-end">', 1)[1].split("</p>", 1)[0]
        self.assertFalse(date_line.strip().startswith(","), date_line)
        self.assertIn(action._followup_formatter().date(action.date), date_line)

    def test_german_window_is_on_the_left(self):
        self.company.followup_letter_window = "left"
        self._run_followup("2025-01-11")
        html = self._letter_html(self._history(self.customer_fr))
        self.assertIn("left: 2.94%", html)

    def test_letter_falls_back_to_the_customers_address(self):
        self.contact.street = False
        self._run_followup("2025-01-11")
        action = self._history(self.customer_fr)
        self.assertEqual(action._followup_postal_partner(), self.customer_fr)
        self.assertIn("1 Main Street", self._letter_html(action))

    def test_customer_without_postal_address_waits_for_review(self):
        self.contact.street = False
        self.customer_fr.street = False
        self._run_followup("2025-01-11")
        action = self._history(self.customer_fr)
        self.assertEqual(action.state, "to_review")
        self.assertIn("postal address", action.review_reason)
        self.assertFalse(action.sent_letter)
        with freeze_time("2025-01-12"), self.assertRaises(UserError):
            action.action_review_send()
        self.customer_fr.street = "3 place Bellecour"
        with freeze_time("2025-01-12"):
            action.action_review_send()
        self.assertTrue(action.sent_letter)
