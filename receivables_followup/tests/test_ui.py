import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.sql_db import TestCursor
from odoo.tests import HttpCase, tagged

from odoo.addons.bus import websocket
from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestFollowupUi(HttpCase):
    """The Follow-up menu renders in a real browser (headless Chromium)."""

    def test_followup_menu_renders(self):
        self.start_tour(
            "/odoo",
            "receivables_followup_menu_tour",
            login="admin",
        )


@tagged("post_install", "-at_install")
class TestFollowupRunRefreshUi(FollowupCommon, HttpCase):
    """After "Run Follow-up Now", the runs list shows the run done when the
    scheduled action finishes it, without a reload (Odoo's bus)."""

    def test_runs_list_refreshes_when_the_run_finishes(self):
        admin = self.env.ref("base.user_admin")
        admin.write(
            {
                "company_ids": [fields.Command.link(self.company.id)],
                "company_id": self.company.id,
            }
        )
        today = self.company._followup_today()
        self._create_invoice(self.customer_be, 1000.0, today - timedelta(days=15))
        original_commit = TestCursor.commit

        def commit_and_notify(cursor):
            # A test cursor drops post-commit hooks; the bus notifies the browser
            # from one, as it does after a real commit.
            cursor.flush()
            cursor.postcommit.run()
            return original_commit(cursor)

        # Odoo's test server refuses websockets unless a test opens them, as the
        # bus's own tests do.
        with (
            patch.object(TestCursor, "commit", commit_and_notify),
            patch.object(
                WebsocketConnectionHandler, "websocket_allowed", return_value=True
            ),
        ):
            try:
                self.start_tour(
                    "/odoo", "receivables_followup_run_refresh_tour", login="admin"
                )
            finally:
                self._close_websockets()
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        self.assertEqual((run.state, run.done_count), ("done", 1))

    def _close_websockets(self):
        """Close the browser's websockets before the test's transaction ends."""
        open_sockets = [
            socket
            for socket in list(websocket._websocket_instances)
            if socket.state is websocket.ConnectionState.OPEN
        ]
        for socket in open_sockets:
            socket.disconnect(websocket.CloseCode.CLEAN)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            socket.state is not websocket.ConnectionState.CLOSED
            for socket in open_sockets
        ):
            time.sleep(0.05)
