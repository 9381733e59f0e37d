from freezegun import freeze_time

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
