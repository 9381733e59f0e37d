"""Promises to pay recorded by credit controllers, and the late-payment rate of
the current half-year."""

from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupPromise(FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.promise_max_days = 30
        cls.invoice = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")

        def user(login, group):
            return new_test_user(
                cls.env,
                login=login,
                groups=f"base.group_user,{group}",
                company_id=cls.company.id,
                company_ids=[cls.company.id],
            )

        cls.controller = user(
            "promise_user", "receivables_followup.group_followup_user"
        )
        cls.manager = user("promise_mgr", "receivables_followup.group_followup_manager")

    def _promise(self, user, promise_date):
        wizard = (
            self.env["followup.exclude.wizard"]
            .with_user(user)
            .create(
                {
                    "move_ids": self.invoice.ids,
                    "mode": "promise",
                    "promise_date": promise_date,
                }
            )
        )
        with freeze_time("2025-01-15"):
            wizard.action_confirm()

    def test_controller_records_a_promise_within_the_horizon(self):
        self._promise(self.controller, "2025-02-10")
        self.assertEqual(str(self.invoice.followup_promise_date), "2025-02-10")
        with freeze_time("2025-01-15"):
            self.invoice.invalidate_recordset(["followup_status"])
            self.invoice._compute_followup_status()
        self.assertEqual(self.invoice.followup_status, "paused_promise")

    def test_promise_beyond_the_horizon_needs_a_manager(self):
        with self.assertRaisesRegex(UserError, "approval of a follow-up manager"):
            self._promise(self.controller, "2025-06-30")
        self.assertFalse(self.invoice.followup_promise_date)
        self._promise(self.manager, "2025-06-30")
        self.assertEqual(str(self.invoice.followup_promise_date), "2025-06-30")

    def test_new_promise_closes_the_previous_check_activity(self):
        self._promise(self.controller, "2025-01-25")
        self._promise(self.controller, "2025-02-05")
        check = self.env.ref("receivables_followup.mail_activity_type_promise_check")
        open_checks = self.invoice.activity_ids.filtered(
            lambda activity: activity.activity_type_id == check
        )
        self.assertEqual(len(open_checks), 1)
        self.assertEqual(str(open_checks.date_deadline), "2025-02-05")

    def test_chatter_shows_the_promised_date_as_a_tracked_date(self):
        """A tracked date is formatted by each reader's browser, in their language;
        the message text carries no date of its own."""
        self._promise(self.controller, "2025-02-10")
        message = self.invoice.message_ids.filtered("tracking_value_ids")[:1]
        tracking = message.tracking_value_ids
        self.assertEqual(tracking.field_id.name, "followup_promise_date")
        self.assertEqual(str(tracking.new_value_datetime.date()), "2025-02-10")
        self.assertNotIn("2025", message.body)

    def test_broken_promise_logs_the_date_that_was_not_kept(self):
        self._promise(self.controller, "2025-01-20")
        self._run_followup("2025-01-25")
        self.assertFalse(self.invoice.followup_promise_date)
        message = self.invoice.message_ids.filtered(
            lambda msg: "not kept" in (msg.body or "")
        )
        self.assertEqual(
            str(message.tracking_value_ids.old_value_datetime.date()), "2025-01-20"
        )


@tagged("post_install", "-at_install")
class TestCurrentRateWarning(FollowupCommon):
    def _warnings(self):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "followup.interest.rate"),
                ("summary", "like", "late-payment rate"),
            ]
        )

    def test_managers_are_warned_when_the_half_year_has_no_rate(self):
        with freeze_time("2026-11-25"):
            self.env["followup.interest.rate"]._cron_check_current_rate()
        warnings = self._warnings()
        self.assertTrue(warnings)
        self.assertIn("2026-07-01", warnings[0].summary)
        managers = self.env.ref("receivables_followup.group_followup_manager").users
        self.assertLessEqual(warnings.user_id, managers)

    def test_warning_is_given_once(self):
        with freeze_time("2026-11-25"):
            self.env["followup.interest.rate"]._cron_check_current_rate()
            self.env["followup.interest.rate"]._cron_check_current_rate()
        self.assertEqual(len(self._warnings()), len(self._warnings().user_id))

    def test_no_warning_when_the_rate_is_entered(self):
        self.env["followup.interest.rate"].sudo().create(
            {"date_from": date(2026, 7, 1), "reference_rate": 2.15}
        )
        with freeze_time("2026-11-25"):
            self.env["followup.interest.rate"]._cron_check_current_rate()
        self.assertFalse(self._warnings())
