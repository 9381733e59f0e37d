from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestFollowupUi(HttpCase):
    """The Follow-up menu renders in a real browser (headless Chromium)."""

    def test_followup_menu_renders(self):
        self.start_tour(
            "/odoo",
            "receivables_followup_menu_tour",
            login="admin",
        )
