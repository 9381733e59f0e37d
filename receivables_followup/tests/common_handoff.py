"""Fixtures of the hand-off tests: the follow-up world, a Debitura agency that
points at the sandbox on loopback, and overdue invoices relative to the
company's real follow-up day (the hand-off rules read today, not a frozen one)."""

from datetime import timedelta

from odoo import fields

from .common import FollowupCommon
from .common_agency import AgencySandboxMixin

TEAM_MEMBER = "accountant@sandbox-creditor.example"


class HandoffCommon(AgencySandboxMixin, FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = cls.company._followup_today()
        cls.company.followup_handoff_min_days = 30
        cls.agency = cls.env["followup.agency"].create(
            {
                "name": "Debitura Sandbox",
                "code": "debitura",
                "company_id": cls.company.id,
                "base_url": cls.sandbox.base_url,
                "api_key": cls.sandbox_api_key,
                "webhook_secret": "whsec-test-secret",
                "agency_user_email": TEAM_MEMBER,
                "is_test": True,
                "test_tag": "rf-odoo-tests",
                "request_timeout": 2.0,
                "max_attempts": 4,
                "failure_threshold": 3,
                "send_documents": False,
            }
        )
        # where the money the agency collects is booked
        cls.clearing = (
            cls.env["account.account"]
            .with_company(cls.company)
            .create(
                {
                    "name": "Agency clearing",
                    "code": "467100",
                    "account_type": "asset_current",
                    "reconcile": True,
                }
            )
        )
        cls.fee_account = cls.company_data["default_account_expense"]
        cls.agency_partner = cls.env["res.partner"].create(
            {"name": "Debitura ApS", "is_company": True}
        )
        cls.agency.write(
            {
                "clearing_account_id": cls.clearing.id,
                "fee_account_id": cls.fee_account.id,
                "agency_partner_id": cls.agency_partner.id,
            }
        )
        cls.Request = cls.env["followup.agency.request"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset(keep_settings=False)
        self.sandbox.clear_faults()

    def _overdue_invoice(self, partner, amount, days_late=90, currency=None):
        return self._create_invoice(
            partner, amount, self.today - timedelta(days=days_late), currency=currency
        )

    def _wizard(self, moves, user=None):
        env = self.env(user=user) if user else self.env
        action = moves.with_env(env).action_open_handoff_wizard()
        return env["followup.handoff.wizard"].browse(action["res_id"])

    def _hand_off(self, moves, **values):
        wizard = self._wizard(moves)
        if values:
            wizard.write(values)
        action = wizard.action_confirm()
        return self.env["followup.agency.case"].search(action["domain"])

    def _send_outbox(self, rounds=10):
        """Run the outbox as the cron runner would, making every waiting
        request due at once (no waiting for the backoff in tests)."""
        for _round in range(rounds):
            self.Request.sudo().search([("state", "=", "retry")]).write(
                {"next_attempt": fields.Datetime.now() - timedelta(seconds=1)}
            )
            done, remaining = self.Request.sudo()._cron_send_requests()
            if not done and not remaining:
                return
