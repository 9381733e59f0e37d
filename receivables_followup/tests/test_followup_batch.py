"""The set-based paths of the engine give what Odoo's own paths give.

The run plans customers by slices, renders a template's body once per batch, formats
amounts and dates with the language read once, and queues its emails with SQL
INSERTs: each test compares the result with Odoo's own way or sends the queued
email through Odoo's mail queue.
"""

from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged
from odoo.tools.misc import format_date, formatLang

from odoo.addons.mail.tests.common import MockEmail

from ..models import followup_run_planner
from ..services.formatting import ReminderFormatter
from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupPlanningSlices(FollowupCommon):
    def test_customers_planned_one_slice_at_a_time_get_the_same_plan(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_invoice(self.customer_be, 500.0, "2024-12-01")
        self._create_invoice(self.customer_fr, 300.0, "2025-01-01")
        self._create_invoice(self.customer_us, 200.0, "2025-01-01")
        # the US customer's credit covers its overdue amount, in its own slice
        self._create_credit_note(self.customer_us, 200.0)
        with patch.object(followup_run_planner, "PLAN_PARTNER_SLICE", 1):
            self._run_followup("2025-01-11")
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        self.assertEqual((run.planned_count, run.covered_partner_count), (2, 1))
        self.assertEqual(len(self._history(self.customer_be).move_ids), 2)
        self.assertEqual(len(self._history(self.customer_fr)), 1)
        self.assertFalse(self._history(self.customer_us))

    def test_formal_notice_is_planned_with_the_amounts_it_will_claim(self):
        self.level_3.manual_review = True
        invoice = self._create_invoice(self.customer_fr, 1000.0, "2024-11-01")
        invoice.sudo().write(
            {"followup_level_id": self.level_2.id, "followup_last_date": "2024-12-01"}
        )
        self._run_followup("2025-01-01")
        action = self._history(self.customer_fr, state="to_review")
        self.assertEqual(action.level_id, self.level_3)
        self.assertEqual(invoice.followup_status, "manual")
        self.assertLessEqual(str(invoice.followup_next_date), "2025-01-01")
        planned = (action.interest_amount, action.indemnity_amount)
        self.assertAlmostEqual(planned[1], 40.0)
        self.assertGreater(planned[0], 0.0)
        with freeze_time("2025-01-01"):
            action.action_review_send()
        self.assertEqual(action.state, "done")
        self.assertEqual((action.interest_amount, action.indemnity_amount), planned)


@tagged("post_install", "-at_install")
class TestFollowupRenderOnce(FollowupCommon):
    def test_body_compiled_once_renders_what_odoo_renders(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_invoice(self.customer_fr, 1234.5, "2025-01-01", currency=self.usd)
        self._create_invoice(self.customer_us, 300.0, "2025-01-01")
        Run = self._cron_env()["followup.run"]
        with freeze_time("2025-01-11"):
            Run._plan_companies(self.company, origin="cron")
        actions = self.env["followup.history"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(len(actions), 3)
        template = self.level_1.mail_template_id
        fields = ("subject", "body_html", "email_from", "partner_to")
        odoo_way = template._generate_template(actions.ids, fields)
        once = template.with_context(followup_render_once=True)._generate_template(
            actions.ids, fields
        )
        self.assertEqual(once, odoo_way)
        self.assertIn("234,50", once[self._history(self.customer_fr).id]["body_html"])

    def test_rendering_error_is_reported_the_way_odoo_reports_it(self):
        template = self.level_1.mail_template_id.copy(
            {"body_html": '<p t-out="object.no_such_field" />'}
        )
        partners = self.customer_be | self.customer_fr
        template.model_id = self.env["ir.model"]._get("res.partner")
        with self.assertRaises(Exception) as odoo_way:
            template._render_field("body_html", partners.ids)
        with self.assertRaises(Exception) as once:
            template.with_context(followup_render_once=True)._render_field(
                "body_html", partners.ids
            )
        self.assertEqual(type(once.exception), type(odoo_way.exception))


@tagged("post_install", "-at_install")
class TestFollowupFormatter(FollowupCommon):
    def test_amounts_and_dates_read_as_odoo_formats_them(self):
        for lang in ("en_US", "fr_FR"):
            env = self.env(context=dict(self.env.context, lang=lang))
            formatter = ReminderFormatter.for_lang(env, lang)
            for currency in (self.eur, self.usd):
                for amount in (0.0, 1.005, -1234.5, 1234567.891, 999.995):
                    self.assertEqual(
                        formatter.amount(amount, currency),
                        formatLang(env, amount, currency_obj=currency),
                        f"{amount} {currency.name} in {lang}",
                    )
            for day in (date(2025, 1, 31), date(2024, 12, 1)):
                self.assertEqual(formatter.date(day), format_date(env, day))

    def test_changed_language_settings_are_used_at_once(self):
        lang = self.env["res.lang"]._lang_get("fr_FR")
        before = ReminderFormatter.for_lang(self.env, "fr_FR").date(date(2025, 1, 31))
        lang.date_format = "%Y/%m/%d"
        after = ReminderFormatter.for_lang(self.env, "fr_FR").date(date(2025, 1, 31))
        self.assertEqual((before, after), ("31/01/2025", "2025/01/31"))


@tagged("post_install", "-at_install")
class TestFollowupQueuedEmails(FollowupCommon, MockEmail):
    def test_queued_reminder_is_sent_by_the_mail_queue(self):
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        mail = self._emails_to(self.customer_be)
        self.assertEqual(mail.state, "outgoing")
        with self.mock_mail_gateway():
            mail.send()
        self.assertEqual(mail.state, "sent")
        self.assertEqual(len(self._mails), 1)
        sent = self._mails[0]
        self.assertEqual(sent["email_to"], [self.customer_be.email_formatted])
        self.assertIn("payment reminder", sent["subject"])
        self.assertIn(invoice.name, sent["body"])
        self.assertTrue(sent["message_id"])

    def test_chatter_gets_a_summary_and_the_action_the_email(self):
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        action = self._history(self.customer_be)
        message = action.mail_message_id
        self.assertIn(message, self.customer_be.message_ids)
        self.assertIn("Reminder", message.body)
        self.assertIn("1,000.00", message.body)
        self.assertNotIn("<table", message.body)
        self.assertIn(invoice.name, action.sent_body)

    def test_email_shown_on_the_action_is_sanitised(self):
        template = self.level_1.mail_template_id
        template.body_html = (
            "<p>Dear customer</p><script>alert('pwned')</script>"
            '<img src="x" onerror="alert(1)"/>'
        )
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_invoice(self.customer_fr, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        action = self._history(self.customer_be)
        self.assertIn("Dear customer", action.sent_body)
        self.assertNotIn("<script", action.sent_body)
        self.assertNotIn("onerror", action.sent_body)

    def test_activities_do_not_email_their_assignee(self):
        controller = new_test_user(
            self.env,
            login="fu_batch_controller",
            email="controller@company.example",
            groups="receivables_followup.group_followup_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.customer_be.with_company(self.company).collection_user_id = controller
        self.level_1.write(
            {
                "create_activity": True,
                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
            }
        )
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self.assertEqual(
            self._history(self.customer_be).activity_id.user_id, controller
        )
        assigned = (
            self.env["mail.mail"]
            .sudo()
            .search([("recipient_ids", "in", controller.partner_id.ids)])
        )
        self.assertFalse(assigned)
