from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_default_policy_created(self):
        policy = self.env["followup.policy"]._default_for_company(self.env.company)
        self.assertEqual(len(policy.level_ids), 4)
