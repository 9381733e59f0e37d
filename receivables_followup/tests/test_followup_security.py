"""The doors found open in the core, each opened the way JSON-RPC allows, and the
access table of every role over them.

Each test fails while its door is open: a follow-up user reading any email
through a reminder, a company-1 user postponing company 2's invoices, lower roles
switching the follow-up off, the dispute workflow bypassed, another company's
manager editing shared configuration.
"""

import logging

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common_access import SecurityCommon

_logger = logging.getLogger(__name__)

ROLES = (
    "employee",
    "contact_creator",
    "billing",
    "followup_user",
    "followup_manager",
    "other_company_manager",
)


class _Allowed(Exception):
    """Raised after an allowed operation, to roll it back."""


@tagged("post_install", "-at_install")
class TestFollowupDoors(SecurityCommon):
    # E-mails readable through a reminder ------------------------------------
    def test_reminder_cannot_be_pointed_at_another_email(self):
        self._run_followup("2025-01-11")
        action = self._history(self.customer_be, company_id=self.company.id)
        reset_link = (
            self.env["mail.mail"]
            .sudo()
            .create({"body_html": "<p>Reset your password: secret-token</p>"})
        )
        with self.assertRaises(AccessError):
            action.with_user(self.users["followup_user"]).write(
                {"mail_message_id": reset_link.mail_message_id.id}
            )
        # even if the link were forged, the body shown is only the action's own
        action.sudo().mail_message_id = reset_link.mail_message_id
        action.invalidate_recordset(["sent_body"])
        self.assertFalse(action.with_user(self.users["followup_user"]).sent_body)

    def test_actions_and_runs_are_created_by_the_engine_only(self):
        user = self.users["followup_user"]
        with self.assertRaises(AccessError):
            self.env["followup.history"].with_user(user).create(
                {
                    "company_id": self.company.id,
                    "partner_id": self.customer_be.id,
                    "level_id": self.level_1.id,
                    "date": "2025-01-11",
                    "state": "to_review",
                }
            )
        with self.assertRaises(AccessError):
            self.env["followup.run"].with_user(user).create(
                {"company_id": self.company.id, "date": "2025-01-11", "state": "done"}
            )

    # Cross-company writes ---------------------------------------------------
    def test_another_companys_reminder_cannot_be_postponed(self):
        self.level_1.manual_review = True
        self.policy_2.level_ids.sorted("delay")[:1].manual_review = True
        self._run_followup("2025-01-11")
        foreign = self.env["followup.history"].search(
            [("company_id", "=", self.company_2.id)]
        )
        self.assertEqual(foreign.state, "to_review")
        wizard = (
            self.env["followup.review.postpone"]
            .with_user(self.users["followup_user"])
            .create({"history_ids": foreign.ids, "date": "9999-12-31"})
        )
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertFalse(self.invoice_2.followup_postponed_to)
        self.assertEqual(foreign.state, "to_review")

    def test_engine_writes_on_behalf_of_a_user_stay_in_its_companies(self):
        """Even called with sudo on another company's invoice, the raw UPDATE of
        a person's action leaves it alone."""
        moves = (self.invoice | self.invoice_2).with_user(self.users["followup_user"])
        moves.sudo()._followup_postpone(self.company._followup_today())
        self.assertTrue(self.invoice.followup_postponed_to)
        self.assertFalse(self.invoice_2.followup_postponed_to)

    # Follow-up switched off by lower roles ------------------------------------
    def test_contact_creator_cannot_switch_the_followup_off(self):
        for role in ("contact_creator", "billing", "followup_user"):
            customer = self.customer_be.with_user(self.users[role])
            for values in (
                {"collection_no_auto": True},
                {"collection_policy_id": self.policy.id},
                {"collection_user_id": self.users[role].id},
            ):
                with (
                    self.subTest(role=role, values=values),
                    self.assertRaises(AccessError),
                ):
                    customer.write(values)
        self.assertFalse(self.customer_be.with_company(self.company).collection_no_auto)

    def test_followup_user_changes_the_settings_with_a_reason(self):
        wizard = (
            self.env["followup.partner.settings"]
            .with_user(self.users["followup_user"])
            .with_context(active_id=self.customer_be.id)
            .create({"no_auto": True, "reason": "Key account: calls only"})
        )
        wizard.action_confirm()
        partner = self.customer_be.with_company(self.company)
        self.assertTrue(partner.collection_no_auto)
        note = partner.message_ids.filtered(lambda m: "Key account" in (m.body or ""))
        self.assertTrue(note)

    def test_followup_user_assigns_a_responsible_to_many_customers(self):
        target = self.users["followup_manager"]
        customers = self.customer_be | self.customer_fr
        wizard = (
            self.env["followup.partner.assign"]
            .with_user(self.users["followup_user"])
            .with_context(active_ids=customers.ids)
            .create({"user_id": target.id, "reason": "Portfolio split"})
        )
        self.assertEqual(wizard.partner_ids, customers)
        wizard.action_confirm()
        for customer in customers:
            partner = customer.with_company(self.company)
            self.assertEqual(partner.collection_user_id, target)
            self.assertTrue(
                partner.message_ids.filtered(
                    lambda m: "Portfolio split" in (m.body or "")
                )
            )
        # another company's user cannot be made responsible here
        wizard = (
            self.env["followup.partner.assign"]
            .with_user(self.users["followup_user"])
            .create(
                {
                    "partner_ids": customers.ids,
                    "user_id": self.users["other_company_manager"].id,
                    "reason": "Test",
                }
            )
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        with self.assertRaises(AccessError):
            self.env["followup.partner.assign"].with_user(
                self.users["contact_creator"]
            ).create(
                {"partner_ids": customers.ids, "user_id": target.id, "reason": "x"}
            )

    def test_settings_of_a_company_not_ones_own_are_refused(self):
        wizard = (
            self.env["followup.partner.settings"]
            .with_user(self.users["followup_user"])
            .with_context(active_id=self.customer_be.id)
            .create(
                {
                    "company_id": self.company_2.id,
                    "no_auto": True,
                    "reason": "Not my company",
                }
            )
        )
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertFalse(
            self.customer_be.with_company(self.company_2).collection_no_auto
        )

    def test_policy_of_another_company_is_refused(self):
        customer = self.customer_be.with_user(self.users["followup_manager"])
        with self.assertRaises(ValidationError):
            customer.with_company(self.company).write(
                {"collection_policy_id": self.policy_2.id}
            )

    def test_billing_user_cannot_write_the_invoice_followup(self):
        invoice = self.invoice.with_user(self.users["billing"])
        for values in (
            {"followup_level_id": self.level_3.id},
            {"followup_last_date": "2025-01-01"},
            {"followup_promise_date": "9999-12-31"},
            {"followup_excluded": True},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                invoice.write(values)
        self.assertFalse(self.invoice.followup_level_id)

    def test_no_context_opens_the_invoice_fields(self):
        invoice = self.invoice.with_user(self.users["followup_manager"])
        with self.assertRaises(AccessError):
            invoice.with_context(followup_engine=True, tracking_disable=True).write(
                {"followup_excluded": True}
            )

    def test_exclusion_goes_through_the_wizard_and_is_logged(self):
        wizard = (
            self.env["followup.exclude.wizard"]
            .with_user(self.users["followup_user"])
            .create(
                {"move_ids": self.invoice.ids, "mode": "exclude", "reason": "Goodwill"}
            )
        )
        wizard.action_confirm()
        self.assertTrue(self.invoice.followup_excluded)
        self.invoice.invalidate_recordset(["message_ids"])
        note = self.invoice.message_ids.filtered(
            lambda message: "Goodwill" in (message.body or "")
        )
        self.assertIn("sec_fu_user", note.body)

    # The dispute workflow -------------------------------------------------------
    def _dispute(self, amount=1000.0):
        return self.env["followup.dispute"].create(
            {
                "partner_id": self.customer_be.id,
                "reason_id": self._reason().id,
                "line_ids": [
                    Command.create({"move_id": self.invoice.id, "amount": amount})
                ],
            }
        )

    def test_dispute_state_cannot_be_written_whatever_the_context(self):
        dispute = self._dispute().with_user(self.users["followup_user"])
        dispute.action_cancel()
        for values in (
            {"state": "open"},
            {"state": "resolved", "resolution": "credit_note"},
            {"credit_note_ids": [Command.set([])]},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                dispute.with_context(followup_dispute_state_change=True).write(values)
        self.assertEqual(dispute.state, "cancelled")

    def test_dispute_cannot_be_created_resolved(self):
        with self.assertRaises(UserError):
            self.env["followup.dispute"].with_user(self.users["followup_user"]).create(
                {
                    "partner_id": self.customer_be.id,
                    "reason_id": self._reason().id,
                    "state": "resolved",
                    "resolution": "credit_note",
                    "line_ids": [
                        Command.create({"move_id": self.invoice.id, "amount": 10.0})
                    ],
                }
            )

    def test_billing_user_cannot_move_a_dispute(self):
        dispute = self._dispute()
        with self.assertRaises(AccessError):
            dispute.with_user(self.users["billing"]).action_cancel()
        self.assertEqual(dispute.state, "open")

    def test_oversized_credit_note_needs_a_confirmation(self):
        dispute = self._dispute(amount=10.0)
        note = self._create_credit_note(self.customer_be, 5000.0)
        with self.assertRaisesRegex(UserError, "exceed the disputed amount"):
            dispute.action_resolve_credit_note(credit_notes=note)
        self.assertEqual(dispute.state, "open")
        dispute.action_resolve_credit_note(credit_notes=note, allow_difference=True)
        self.assertEqual(dispute.state, "resolved")

    def test_one_credit_note_settles_one_dispute(self):
        note = self._create_credit_note(self.customer_be, 10.0)
        self._dispute(amount=10.0).action_resolve_credit_note(credit_notes=note)
        other_invoice = self._create_invoice(self.customer_be, 50.0, "2025-01-01")
        second = self.env["followup.dispute"].create(
            {
                "partner_id": self.customer_be.id,
                "reason_id": self._reason().id,
                "line_ids": [
                    Command.create({"move_id": other_invoice.id, "amount": 10.0})
                ],
            }
        )
        with self.assertRaises(UserError):
            second.action_resolve_credit_note(credit_notes=note)
        self.assertEqual(second.state, "open")

    def test_small_dispute_keeps_the_rest_escalating(self):
        self._dispute(amount=0.01)
        self.assertFalse(self.invoice.followup_dispute_paused)
        self.assertEqual(self.invoice.followup_status, "in_followup")

    def test_dispute_above_the_minimum_share_pauses_the_invoice(self):
        self._dispute(amount=200.0)
        self.assertTrue(self.invoice.followup_dispute_paused)

    # Shared configuration ----------------------------------------------------
    def test_other_company_cannot_change_the_shared_rate(self):
        shared = self.env["followup.interest.rate"].search(
            [("company_id", "=", False)], limit=1
        )
        manager_2 = self.users["other_company_manager"]
        with self.assertRaises(AccessError):
            shared.with_user(manager_2).write({"reference_rate": 42.15})
        own = (
            self.env["followup.interest.rate"]
            .with_user(manager_2)
            .with_company(self.company_2)
            .create(
                {
                    "date_from": "2025-01-01",
                    "reference_rate": 3.0,
                    "company_id": self.company_2.id,
                }
            )
        )
        self.assertEqual(own.company_id, self.company_2)

    def test_other_company_cannot_change_the_shared_dispute_reasons(self):
        reason = self._reason().with_user(self.users["other_company_manager"])
        with self.assertRaises(AccessError):
            reason.write({"name": "Hijacked"})
        with self.assertRaises(AccessError):
            reason.unlink()


@tagged("post_install", "-at_install")
class TestFollowupAccessTable(SecurityCommon):
    """Who may do what, over the fields and methods the doors were about."""

    def _operations(self):
        shared_rate = self.env["followup.interest.rate"].search(
            [("company_id", "=", False)], limit=1
        )
        run_policy = self.policy
        self.level_1.manual_review = True
        self._run_followup("2025-01-11")
        to_review = self._history(self.customer_be, company_id=self.company.id)
        reset_link = (
            self.env["mail.mail"].sudo().create({"body_html": "<p>secret-token</p>"})
        )
        dispute = self.env["followup.dispute"].create(
            {
                "partner_id": self.customer_be.id,
                "reason_id": self._reason().id,
                "line_ids": [
                    Command.create({"move_id": self.invoice.id, "amount": 100.0})
                ],
            }
        )
        note = self._create_credit_note(self.customer_be, 100.0)

        def partner_write(values):
            return lambda env: self.customer_be.with_env(env).write(values)

        def invoice_write(values):
            return lambda env: self.invoice.with_env(env).write(values)

        def exclude(env):
            env["followup.exclude.wizard"].create(
                {"move_ids": self.invoice.ids, "mode": "exclude", "reason": "Test"}
            ).action_confirm()

        def open_dispute(env):
            env["followup.dispute"].create(
                {
                    "partner_id": self.customer_be.id,
                    "reason_id": self._reason().id,
                    "line_ids": [
                        Command.create({"move_id": self.invoice.id, "amount": 100.0})
                    ],
                }
            )

        def postpone(env):
            env["followup.review.postpone"].create(
                {"history_ids": to_review.ids, "date": "2099-01-01"}
            ).action_confirm()

        def resolve_by_credit_note(env):
            dispute.with_env(env).action_resolve_credit_note(credit_notes=note)

        def settings_wizard(env):
            env["followup.partner.settings"].with_context(
                active_id=self.customer_be.id
            ).create({"no_auto": True, "reason": "Test"}).action_confirm()

        return {
            "partner: settings wizard": settings_wizard,
            "partner: no automatic follow-up": partner_write(
                {"collection_no_auto": True}
            ),
            "partner: follow-up policy": partner_write(
                {"collection_policy_id": run_policy.id}
            ),
            "partner: follow-up responsible": lambda env: self.customer_be.with_env(
                env
            ).write({"collection_user_id": env.uid}),
            "invoice: follow-up level": invoice_write(
                {"followup_level_id": self.level_2.id}
            ),
            "invoice: last follow-up date": invoice_write(
                {"followup_last_date": "2025-01-01"}
            ),
            "invoice: promise date": invoice_write(
                {"followup_promise_date": "2025-02-01"}
            ),
            "invoice: exclusion (field)": invoice_write({"followup_excluded": True}),
            "invoice: exclusion (wizard)": exclude,
            "action: create": lambda env: env["followup.history"].create(
                {
                    "company_id": self.company.id,
                    "partner_id": self.customer_be.id,
                    "level_id": self.level_1.id,
                    "date": "2025-01-11",
                }
            ),
            "action: link an email": lambda env: to_review.with_env(env).write(
                {"mail_message_id": reset_link.mail_message_id.id}
            ),
            "action: postpone (wizard)": postpone,
            "run: create": lambda env: env["followup.run"].create(
                {"company_id": self.company.id, "date": "2025-01-11"}
            ),
            "run: Run Follow-up Now": lambda env: env[
                "followup.run"
            ].action_run_followup(),
            "dispute: open": open_dispute,
            "dispute: state (context key)": lambda env: dispute.with_env(env)
            .with_context(followup_dispute_state_change=True)
            .write({"state": "resolved", "resolution": "credit_note"}),
            "dispute: resolve by credit note": resolve_by_credit_note,
            "shared rate: write": lambda env: shared_rate.with_env(env).write(
                {"margin": 11.0}
            ),
            "shared reason: write": lambda env: self._reason()
            .with_env(env)
            .write({"sequence": 99}),
            "policy: write": lambda env: run_policy.with_env(env).write(
                {"promise_max_days": 45}
            ),
        }

    #: the roles allowed to do each operation; every other role is refused
    #: (follow-up users change a customer's settings through the wizard, with a
    #: reason; another company's manager sets the customer's follow-up of its
    #: own company, and runs its own company's follow-up)
    EXPECTED = {
        "partner: settings wizard": {
            "followup_user",
            "followup_manager",
            "other_company_manager",
        },
        "partner: no automatic follow-up": {
            "followup_manager",
            "other_company_manager",
        },
        "partner: follow-up policy": {"followup_manager"},
        "partner: follow-up responsible": {
            "followup_manager",
            "other_company_manager",
        },
        "invoice: follow-up level": set(),
        "invoice: last follow-up date": set(),
        "invoice: promise date": set(),
        "invoice: exclusion (field)": set(),
        "invoice: exclusion (wizard)": {"followup_user", "followup_manager"},
        "action: create": set(),
        "action: link an email": set(),
        "action: postpone (wizard)": {"followup_user", "followup_manager"},
        "run: create": set(),
        "run: Run Follow-up Now": {
            "followup_user",
            "followup_manager",
            "other_company_manager",
        },
        "dispute: open": {"followup_user", "followup_manager"},
        "dispute: state (context key)": set(),
        "dispute: resolve by credit note": {"followup_user", "followup_manager"},
        "shared rate: write": set(),
        "shared reason: write": set(),
        "policy: write": {"followup_manager"},
    }

    def _attempt(self, operation, role):
        """Whether ``role`` may do ``operation``; what it did is rolled back, so
        that every role tries it on the same records."""
        env = self.env(user=self.users[role])
        try:
            with self.env.cr.savepoint():
                operation(env)
                env.flush_all()
                raise _Allowed
        except _Allowed:
            return True
        except (AccessError, UserError, ValidationError):
            return False
        finally:
            self.env.invalidate_all()

    def test_access_table(self):
        table = {}
        for name, operation in self._operations().items():
            for role in ROLES:
                table[name, role] = self._attempt(operation, role)
        width = max(len(name) for name in self.EXPECTED)
        lines = [" " * width + " | " + " | ".join(role for role in ROLES)]
        for name in self.EXPECTED:
            cells = [
                ("yes" if table[name, role] else "-").center(len(role))
                for role in ROLES
            ]
            lines.append(name.ljust(width) + " | " + " | ".join(cells))
        _logger.info("Follow-up access table:\n%s", "\n".join(lines))
        for name, allowed_roles in self.EXPECTED.items():
            for role in ROLES:
                with self.subTest(operation=name, role=role):
                    self.assertEqual(table[name, role], role in allowed_roles)
