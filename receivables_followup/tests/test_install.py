from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    """The module installs its groups, menus, default policy and access rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain_user = new_test_user(
            cls.env, login="rf_plain", groups="base.group_user"
        )
        cls.billing_user = new_test_user(
            cls.env, login="rf_billing", groups="account.group_account_invoice"
        )
        cls.followup_user = new_test_user(
            cls.env,
            login="rf_followup_user",
            groups="receivables_followup.group_followup_user",
        )

    def test_every_company_has_a_default_policy(self):
        for company in self.env["res.company"].search([]):
            policy = self.env["followup.policy"]._default_for_company(company)
            self.assertTrue(policy, company.name)
            self.assertEqual(policy.level_ids.mapped("delay"), [7, 21, 45, 75])

    def test_new_company_gets_a_default_policy(self):
        company = self.env["res.company"].create({"name": "Follow-up Test Co"})
        policy = self.env["followup.policy"]._default_for_company(company)
        self.assertEqual(len(policy.level_ids), 4)
        self.assertTrue(policy.level_ids.filtered("is_formal_notice").manual_review)

    def test_groups_imply_accounting_rights(self):
        user_group = self.env.ref("receivables_followup.group_followup_user")
        manager_group = self.env.ref("receivables_followup.group_followup_manager")
        self.assertIn(
            self.env.ref("account.group_account_invoice"), user_group.implied_ids
        )
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertIn(
            manager_group, self.env.ref("account.group_account_manager").implied_ids
        )

    def test_menus_exist_under_customers_and_configuration(self):
        root = self.env.ref("receivables_followup.menu_followup_root")
        self.assertEqual(
            root.parent_id, self.env.ref("account.menu_finance_receivables")
        )
        config = self.env.ref("receivables_followup.menu_followup_configuration")
        self.assertEqual(
            config.parent_id, self.env.ref("account.menu_finance_configuration")
        )
        self.assertGreaterEqual(len(root.child_id), 5)

    def test_followup_menu_visible_to_followup_user_only(self):
        root = self.env.ref("receivables_followup.menu_followup_root")
        visible_for_user = (
            self.env["ir.ui.menu"].with_user(self.followup_user)._visible_menu_ids()
        )
        visible_for_billing = (
            self.env["ir.ui.menu"].with_user(self.billing_user)._visible_menu_ids()
        )
        self.assertIn(root.id, visible_for_user)
        self.assertNotIn(root.id, visible_for_billing)

    def test_plain_user_cannot_read_followup_configuration(self):
        for model in ("followup.policy", "followup.level", "followup.interest.rate"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.plain_user).search([]).read(["id"])

    def test_billing_user_without_followup_group_cannot_read_policies(self):
        with self.assertRaises(AccessError):
            self.env["followup.policy"].with_user(self.billing_user).search([])

    def test_followup_user_reads_but_cannot_change_policies(self):
        policy = self.env["followup.policy"]._default_for_company(self.env.company)
        self.assertTrue(policy.with_user(self.followup_user).level_ids)
        with self.assertRaises(AccessError):
            policy.with_user(self.followup_user).write({"name": "Changed"})
