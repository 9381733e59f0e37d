from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common_dispute import DisputeCommon


@tagged("post_install", "-at_install")
class TestDisputeWorkflow(DisputeCommon):
    """Transitions of a dispute and the checks on each."""

    def setUp(self):
        super().setUp()
        self.invoice = self._create_invoice()

    def _queued_mails(self, dispute):
        """Emails queued to the customer about the dispute."""
        return self.env["mail.mail"].search(
            [
                ("model", "=", "followup.dispute"),
                ("res_id", "=", dispute.id),
                ("recipient_ids", "in", self.customer.ids),
            ]
        )

    def test_open_dispute_takes_a_sequence_number(self):
        dispute = self._open(self.invoice)
        self.assertTrue(dispute.name.startswith("DSP/"), dispute.name)
        self.assertEqual(dispute.state, "open")

    def test_open_dispute_defaults_to_whole_residual(self):
        dispute = self._open(self.invoice)
        self.assertEqual(dispute.line_ids.amount, 1150.0)
        self.assertEqual(dispute.amount_disputed, 1150.0)

    def test_open_dispute_belongs_to_commercial_entity(self):
        invoice = self._create_invoice(partner=self.contact)
        dispute = self.env["followup.dispute"]._open_dispute(
            self.contact, {invoice: None}, "quality"
        )
        self.assertEqual(dispute.partner_id, self.customer)
        self.assertEqual(dispute.reason_id, self.reason_quality)

    def test_open_dispute_pauses_invoice(self):
        self._open(self.invoice)
        self.assertTrue(self.invoice.followup_dispute_paused)
        self.assertEqual(self.invoice.followup_status, "paused_dispute")
        self.assertEqual(self.invoice.followup_dispute_count, 1)
        self.assertEqual(self.customer.collection_dispute_count, 1)

    def test_open_dispute_schedules_review_for_customer_responsible(self):
        dispute = self.env["followup.dispute"]._open_dispute(
            self.customer, {self.invoice: None}, "pricing", origin="agency"
        )
        self.assertEqual(dispute.user_id, self.followup_user)
        self.assertEqual(dispute.origin, "agency")
        activity = dispute.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.followup_user)
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("receivables_followup.mail_activity_type_dispute_review"),
        )

    def test_review_moves_open_to_under_review_and_queues_acknowledgement(self):
        dispute = self._open(self.invoice)
        dispute.action_review()
        self.assertEqual(dispute.state, "under_review")
        mails = self._queued_mails(dispute)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.state, "outgoing", "queued, not force-sent")
        self.assertIn(self.customer, mails.recipient_ids)
        self.assertIn("reviewing", mails.subject)
        self.assertEqual(self.invoice.followup_status, "paused_dispute")

    def test_review_twice_changes_nothing(self):
        dispute = self._open(self.invoice)
        dispute.action_review()
        dispute.action_review()
        self.assertEqual(dispute.state, "under_review")
        self.assertEqual(len(self._queued_mails(dispute)), 1)

    def test_resolved_dispute_cannot_go_back_under_review(self):
        dispute = self._open(self.invoice)
        dispute.action_resolve_correction()
        with self.assertRaisesRegex(UserError, "cannot move to Under Review"):
            dispute.action_review()
        self.assertEqual(dispute.state, "resolved")

    def test_reject_needs_a_reason(self):
        dispute = self._open(self.invoice)
        for reason in (None, "", "   "):
            with self.assertRaisesRegex(UserError, "Say why the dispute is rejected"):
                dispute.action_reject(reason)
        self.assertEqual(dispute.state, "open")
        self.assertFalse(dispute.resolution)
        self.assertTrue(self.invoice.followup_dispute_paused)

    @freeze_time("2024-03-01")
    def test_reject_resumes_invoice_today_and_emails_the_reason(self):
        dispute = self._open(self.invoice)
        dispute.action_review()
        dispute.action_reject("Delivered and signed for on 2 January.")
        self.assertEqual(dispute.state, "resolved")
        self.assertEqual(dispute.resolution, "rejected")
        self.assertEqual(dispute.date_closed, fields.Date.to_date("2024-03-01"))
        self.assertFalse(self.invoice.followup_dispute_paused)
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self.assertEqual(
            self.invoice.followup_resume_date, fields.Date.to_date("2024-03-01")
        )
        rejection = self._queued_mails(dispute).filtered(
            lambda mail: "rejected" in mail.subject
        )
        self.assertEqual(len(rejection), 1)
        self.assertIn(
            "Delivered and signed for on 2 January.", str(rejection.body_html)
        )

    def test_resolve_by_correction_emails_resolution(self):
        dispute = self._open(self.invoice)
        dispute.action_resolve_correction()
        self.assertEqual(
            (dispute.state, dispute.resolution), ("resolved", "correction")
        )
        self.assertFalse(self.invoice.followup_dispute_paused)
        mails = self._queued_mails(dispute)
        self.assertEqual(len(mails), 1)
        self.assertIn("resolved", mails.subject)

    def test_credit_note_resolution_needs_the_credit_note(self):
        dispute = self._open(self.invoice)
        with self.assertRaisesRegex(UserError, "needs its credit note"):
            dispute.action_resolve_credit_note(credit_notes=self.env["account.move"])
        self.assertEqual(dispute.state, "open")

    @freeze_time("2024-02-15")
    def test_cancel_resumes_invoices_without_email(self):
        dispute = self._open(self.invoice)
        dispute.action_cancel()
        self.assertEqual(dispute.state, "cancelled")
        self.assertFalse(self.invoice.followup_dispute_paused)
        self.assertEqual(
            self.invoice.followup_resume_date, fields.Date.to_date("2024-02-15")
        )
        self.assertFalse(self._queued_mails(dispute))

    def test_resolved_dispute_cannot_be_cancelled(self):
        dispute = self._open(self.invoice)
        dispute.action_resolve_correction()
        with self.assertRaisesRegex(UserError, "cannot move to Cancelled"):
            dispute.action_cancel()
        self.assertEqual(dispute.state, "resolved")

    def test_state_is_changed_only_through_the_buttons(self):
        dispute = self._open(self.invoice)
        with self.assertRaisesRegex(UserError, "Use the dispute's buttons"):
            dispute.write({"state": "resolved"})
        self.assertEqual(dispute.state, "open")

    def test_only_cancelled_disputes_are_deleted(self):
        dispute = self._open(self.invoice)
        with self.assertRaisesRegex(UserError, "Only cancelled disputes"):
            dispute.unlink()
        dispute.action_cancel()
        dispute.unlink()
        self.assertFalse(dispute.exists())

    def test_closed_dispute_keeps_its_invoices(self):
        dispute = self._open(self.invoice)
        dispute.action_resolve_correction()
        with self.assertRaisesRegex(UserError, "closed dispute cannot be changed"):
            dispute.line_ids.amount = 10.0
        self.assertEqual(dispute.line_ids.amount, 1150.0)

    def test_wizard_rejects_with_reason(self):
        dispute = self._open(self.invoice)
        action = dispute.with_context(
            default_resolution="rejected"
        ).action_open_resolve_wizard()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"rejection_reason": "Price as per signed quote."})
        )
        self.assertEqual(wizard.resolution, "rejected")
        wizard.action_confirm()
        self.assertEqual(dispute.resolution, "rejected")
        self.assertEqual(dispute.rejection_reason, "Price as per signed quote.")

    def test_wizard_resolves_by_correction(self):
        dispute = self._open(self.invoice)
        self.env["followup.dispute.resolve"].create(
            {"dispute_id": dispute.id, "resolution": "correction"}
        ).action_confirm()
        self.assertEqual(dispute.resolution, "correction")

    def test_second_dispute_keeps_invoice_paused_when_first_closes(self):
        first = self._open(self.invoice, amount=500.0)
        self._open(self.invoice, amount=650.0)
        first.action_cancel()
        self.assertTrue(self.invoice.followup_dispute_paused)
        self.assertFalse(self.invoice.followup_resume_date)
        self.assertEqual(self.invoice.followup_disputed_amount, 650.0)


@tagged("post_install", "-at_install")
class TestDisputeValidation(DisputeCommon):
    """Bad input is refused with a clear message, and nothing is written."""

    def setUp(self):
        super().setUp()
        self.invoice = self._create_invoice()
        self.before = self._dispute_count()

    def _assert_refused(self, pattern, invoice_amounts, partner=None, reason="pricing"):
        with self.assertRaisesRegex((UserError, ValidationError), pattern):
            self.env["followup.dispute"]._open_dispute(
                partner or self.customer, invoice_amounts, reason
            )
        self.assertEqual(self._dispute_count(), self.before)
        for move in invoice_amounts:
            self.assertNotEqual(move.followup_status, "paused_dispute")

    def test_negative_amount_is_refused(self):
        self._assert_refused("must be positive", {self.invoice: -10.0})

    def test_zero_amount_is_refused(self):
        self._assert_refused("must be positive", {self.invoice: 0.0})

    def test_amount_above_residual_is_refused(self):
        self._assert_refused("exceeds what is left to pay", {self.invoice: 1150.01})

    def test_amount_above_undisputed_part_is_refused(self):
        self._open(self.invoice, amount=1000.0)
        self.before = self._dispute_count()
        with self.assertRaisesRegex(UserError, "not already disputed"):
            self._open(self.invoice, amount=200.0)
        self.assertEqual(self._dispute_count(), self.before)

    def test_paid_invoice_is_refused(self):
        self._pay(self.invoice)
        self._assert_refused("already paid", {self.invoice: None})

    def test_partly_paid_invoice_disputes_at_most_its_residual(self):
        self._pay(self.invoice, 150.0)
        self._assert_refused("exceeds", {self.invoice: 1150.0})
        dispute = self._open(self.invoice)
        self.assertEqual(dispute.line_ids.amount, 1000.0)

    def test_draft_invoice_is_refused(self):
        draft = self._create_invoice(post=False)
        self._assert_refused("not posted", {draft: 100.0})

    def test_credit_note_is_refused(self):
        refund = self.invoice._reverse_moves()
        refund.action_post()
        self._assert_refused("not a customer invoice", {refund: 10.0})

    def test_invoice_of_another_customer_is_refused(self):
        foreign = self._create_invoice(partner=self.other_customer)
        self._assert_refused("another customer", {foreign: None})

    def test_unknown_reason_is_refused(self):
        self._assert_refused(
            "Unknown dispute reason", {self.invoice: None}, reason="nope"
        )

    def test_no_invoice_is_refused(self):
        with self.assertRaisesRegex(UserError, "at least one invoice"):
            self.env["followup.dispute"]._open_dispute(self.customer, {}, "pricing")

    def test_form_line_above_residual_is_refused(self):
        # A savepoint stands for the request's transaction, which the error rolls back.
        with self.assertRaisesRegex(UserError, "exceeds"), self.env.cr.savepoint():
            self.env["followup.dispute"].create(
                {
                    "partner_id": self.customer.id,
                    "reason_id": self.reason_pricing.id,
                    "line_ids": [
                        Command.create({"move_id": self.invoice.id, "amount": 5000.0})
                    ],
                }
            )
        self.assertEqual(self._dispute_count(), self.before)

    def test_dispute_on_a_contact_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "commercial entity"):
            self.env["followup.dispute"].create(
                {
                    "partner_id": self.contact.id,
                    "reason_id": self.reason_pricing.id,
                    "line_ids": [
                        Command.create({"move_id": self.invoice.id, "amount": 10.0})
                    ],
                }
            )

    def test_dispute_without_invoice_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "at least one invoice"):
            self.env["followup.dispute"].create(
                {"partner_id": self.customer.id, "reason_id": self.reason_pricing.id}
            )


@tagged("post_install", "-at_install")
class TestDisputeCreditNote(DisputeCommon):
    """Resolution by credit note: Odoo's reversal, posted, linked, reconciled."""

    def setUp(self):
        super().setUp()
        self.invoice = self._create_invoice()

    def test_full_credit_note_reverses_and_settles_the_invoice(self):
        dispute = self._open(self.invoice)
        dispute.action_resolve_credit_note()
        note = dispute.credit_note_ids
        self.assertEqual(len(note), 1)
        self.assertEqual(note.move_type, "out_refund")
        self.assertEqual(note.state, "posted")
        self.assertEqual(note.reversed_entry_id, self.invoice)
        self.assertEqual(note.amount_total, 1150.0)
        self.assertEqual(self.invoice.amount_residual, 0.0)
        self.assertIn(self.invoice.payment_state, ("reversed", "paid"))
        self.assertEqual(
            (dispute.state, dispute.resolution), ("resolved", "credit_note")
        )
        self.assertEqual(self.invoice.followup_status, "paid")

    def test_partial_credit_note_is_for_the_disputed_amount(self):
        dispute = self._open(self.invoice, amount=230.0)
        dispute.action_resolve_credit_note()
        note = dispute.credit_note_ids
        self.assertEqual(note.amount_total, 230.0)
        self.assertEqual(note.amount_untaxed, 200.0)
        self.assertEqual(note.amount_tax, 30.0)
        self.assertEqual(
            note.invoice_line_ids.account_id, self.invoice.invoice_line_ids.account_id
        )
        self.assertEqual(self.invoice.amount_residual, 920.0)
        self.assertEqual(self.invoice.payment_state, "partial")
        self.assertFalse(note.amount_residual)

    def test_partial_credit_note_with_uneven_amount_matches_to_the_cent(self):
        dispute = self._open(self.invoice, amount=333.33)
        dispute.action_resolve_credit_note()
        self.assertAlmostEqual(dispute.credit_note_ids.amount_total, 333.33, places=2)
        self.assertAlmostEqual(self.invoice.amount_residual, 816.67, places=2)

    def test_existing_credit_note_is_linked_and_reconciled(self):
        dispute = self._open(self.invoice, amount=115.0)
        refund = self.invoice._reverse_moves()
        refund.invoice_line_ids.price_unit = 100.0
        refund.action_post()
        dispute.action_resolve_credit_note(credit_notes=refund)
        self.assertEqual(dispute.credit_note_ids, refund)
        self.assertEqual(self.invoice.amount_residual, 1035.0)

    def test_credit_note_of_another_customer_is_refused(self):
        dispute = self._open(self.invoice)
        foreign = self._create_invoice(partner=self.other_customer)._reverse_moves()
        foreign.action_post()
        with self.assertRaisesRegex(UserError, "not a posted credit note"):
            dispute.action_resolve_credit_note(credit_notes=foreign)
        self.assertEqual(dispute.state, "open")
        self.assertFalse(dispute.credit_note_ids)

    def test_credit_note_resolution_emails_the_credit_note(self):
        dispute = self._open(self.invoice, amount=230.0)
        dispute.action_resolve_credit_note()
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "followup.dispute"),
                ("res_id", "=", dispute.id),
                ("recipient_ids", "in", self.customer.ids),
            ]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(dispute.credit_note_ids.name, str(mail.body_html))

    def test_wizard_creates_the_credit_note(self):
        dispute = self._open(self.invoice, amount=230.0)
        self.env["followup.dispute.resolve"].create(
            {"dispute_id": dispute.id, "resolution": "credit_note"}
        ).action_confirm()
        self.assertEqual(dispute.credit_note_ids.amount_total, 230.0)
        self.assertEqual(self.invoice.amount_residual, 920.0)


@tagged("post_install", "-at_install")
class TestDisputeAccess(DisputeCommon):
    """Who may read and handle disputes: portal, billing, user, manager, company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._create_invoice()
        cls.other_invoice = cls._create_invoice(partner=cls.other_customer)
        cls.dispute = cls.env["followup.dispute"]._open_dispute(
            cls.customer, {cls.invoice: None}, "pricing", user=cls.followup_user
        )
        cls.other_dispute = cls.env["followup.dispute"]._open_dispute(
            cls.other_customer,
            {cls.other_invoice: None},
            "quality",
            user=cls.followup_user,
        )
        cls.company_2 = cls.setup_other_company(name="Dispute Co 2")["company"]
        cls.invoice_2 = cls._create_invoice(company=cls.company_2)
        cls.dispute_2 = (
            cls.env["followup.dispute"]
            .with_company(cls.company_2)
            ._open_dispute(
                cls.customer, {cls.invoice_2: None}, "pricing", user=cls.followup_user
            )
        )

    def test_portal_user_sees_only_its_company_disputes(self):
        Dispute = self.env["followup.dispute"].with_user(self.portal_user)
        self.assertEqual(Dispute.search([]), self.dispute)
        with self.assertRaises(AccessError):
            self.other_dispute.with_user(self.portal_user).read(["name"])

    def test_portal_user_cannot_create_or_change_disputes(self):
        with self.assertRaises(AccessError):
            self.dispute.with_user(self.portal_user).action_cancel()
        with self.assertRaises(AccessError):
            self.env["followup.dispute"].with_user(self.portal_user).create(
                {"partner_id": self.customer.id, "reason_id": self.reason_pricing.id}
            )
        self.assertEqual(self.dispute.state, "open")

    def test_billing_user_reads_but_cannot_handle_disputes(self):
        dispute = self.dispute.with_user(self.billing_user)
        self.assertEqual(dispute.name, self.dispute.name)
        with self.assertRaises(AccessError):
            dispute.action_review()
        self.assertEqual(self.dispute.state, "open")

    def test_followup_user_handles_disputes_but_cannot_delete(self):
        dispute = self.dispute.with_user(self.followup_user)
        dispute.action_review()
        dispute.action_reject("No ground.")
        self.assertEqual(self.dispute.resolution, "rejected")
        other = self.other_dispute.with_user(self.followup_user)
        other.action_cancel()
        with self.assertRaises(AccessError):
            other.unlink()

    def test_followup_user_opens_dispute_and_credit_note(self):
        invoice = self._create_invoice()
        dispute = (
            self.env["followup.dispute"]
            .with_user(self.followup_user)
            ._open_dispute(self.customer, {invoice: 230.0}, "pricing")
        )
        dispute.action_resolve_credit_note()
        self.assertEqual(invoice.amount_residual, 920.0)

    def test_manager_deletes_cancelled_dispute(self):
        self.other_dispute.with_user(self.followup_manager).action_cancel()
        self.other_dispute.with_user(self.followup_manager).unlink()
        self.assertFalse(self.other_dispute.exists())

    def test_user_of_one_company_does_not_see_another_company_disputes(self):
        Dispute = self.env["followup.dispute"].with_user(self.followup_user)
        self.assertNotIn(self.dispute_2, Dispute.search([]))
        with self.assertRaises(AccessError):
            self.dispute_2.with_user(self.followup_user).read(["name"])

    def test_dispute_takes_the_invoice_company(self):
        self.assertEqual(self.dispute_2.company_id, self.company_2)
        self.assertEqual(self.invoice_2.followup_status, "paused_dispute")

    def test_invoices_of_two_companies_are_refused(self):
        invoice = self._create_invoice()
        with self.assertRaisesRegex(UserError, "one company at a time"):
            self.env["followup.dispute"]._open_dispute(
                self.customer, {invoice: None, self.invoice_2: None}, "pricing"
            )
