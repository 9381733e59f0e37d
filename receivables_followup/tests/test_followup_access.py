from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupAccess(FollowupCommon):
    """Who may run, review and configure the follow-up, in which company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company(name="Second Co")["company"]
        cls.policy_2 = cls._create_policy(cls.company_2, "Second Co policy")

        def user(login, groups):
            return new_test_user(
                cls.env,
                login=login,
                groups=f"base.group_user,base.group_partner_manager,{groups}",
                company_id=cls.company.id,
                company_ids=[cls.company.id],
                email=f"{login}@company.example",
            )

        cls.followup_user = user("fu_user", "receivables_followup.group_followup_user")
        cls.followup_manager = user(
            "fu_manager", "receivables_followup.group_followup_manager"
        )
        cls.billing_user = user("fu_billing", "account.group_account_invoice")
        cls.invoice = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")

    def _to_review(self):
        self.level_1.manual_review = True
        self._run_followup("2025-01-11")
        return self._history(self.customer_be)

    # Running and reviewing ----------------------------------------------
    def test_followup_user_can_run_the_followup(self):
        with freeze_time("2025-01-11"):
            self.env["followup.run"].with_user(self.followup_user).action_run_followup()
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        self.assertEqual(run.planned_count, 1)
        self.assertEqual(self._history(self.customer_be).state, "pending")

    def test_manual_run_leaves_the_sending_to_the_scheduled_action(self):
        cron = self.env.ref("receivables_followup.ir_cron_followup_run")
        with freeze_time("2025-01-11"):
            self.env["followup.run"].with_user(self.followup_user).action_run_followup()
        self.assertTrue(
            self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)])
        )
        self.assertFalse(self._emails_to(self.customer_be))

    def test_billing_user_cannot_run_the_followup(self):
        with self.assertRaises(AccessError):
            self.env["followup.run"].with_user(self.billing_user).action_run_followup()

    def test_followup_user_can_send_a_reminder_under_review(self):
        action = self._to_review()
        with freeze_time("2025-01-12"):
            action.with_user(self.followup_user).action_review_send()
        self.assertEqual(action.state, "done")
        self.assertEqual(action.user_id, self.followup_user)
        self.assertEqual(len(self._emails_to(self.customer_be)), 1)

    def test_followup_user_can_read_the_preview(self):
        action = self._to_review().with_user(self.followup_user)
        self.assertIn(self.invoice.name, action.preview_body)

    def test_billing_user_cannot_review(self):
        action = self._to_review()
        with self.assertRaises(AccessError):
            action.with_user(self.billing_user).action_review_skip()

    # Configuration --------------------------------------------------------
    def test_followup_user_cannot_write_policies(self):
        with self.assertRaises(AccessError):
            self.policy.with_user(self.followup_user).name = "Mine"

    def test_followup_user_cannot_write_levels(self):
        with self.assertRaises(AccessError):
            self.level_1.with_user(self.followup_user).delay = 5

    def test_manager_can_write_policies_and_levels(self):
        self.policy.with_user(self.followup_manager).name = "Renamed"
        self.level_1.with_user(self.followup_manager).delay = 5
        self.assertEqual((self.policy.name, self.level_1.delay), ("Renamed", 5))

    def test_billing_user_cannot_read_policies(self):
        with self.assertRaises(AccessError):
            self.policy.with_user(self.billing_user).read(["name"])

    def test_billing_user_cannot_read_levels(self):
        with self.assertRaises(AccessError):
            self.level_1.with_user(self.billing_user).read(["name"])

    # Multi-company ----------------------------------------------------------
    def test_policy_of_another_company_is_invisible(self):
        Policy = self.env["followup.policy"].with_user(self.followup_user)
        self.assertNotIn(self.policy_2, Policy.search([]))
        with self.assertRaises(AccessError):
            self.policy_2.with_user(self.followup_user).read(["name"])

    def test_history_of_another_company_is_invisible(self):
        self._create_invoice(
            self.customer_be, 700.0, "2025-01-01", company=self.company_2
        )
        self._run_followup("2025-01-11")
        History = self.env["followup.history"].with_user(self.followup_user)
        self.assertEqual(History.search([]).company_id, self.company)
