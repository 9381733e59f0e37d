from odoo import fields, models
from odoo.exceptions import UserError

from ..services import dispute as rules


class FollowupDisputeWorkflow(models.AbstractModel):
    """A dispute's workflow, inherited by ``followup.dispute``: the allowed
    transitions (``services.dispute``), the one method that changes a
    dispute's state and resumes the invoices it stops pausing, the resolution,
    the checks and the reconciliation of the credit notes, and the customer's
    emails. The buttons that call it stay on ``followup.dispute``: this
    abstract model has no public method, so it opens no door of its own over
    JSON-RPC."""

    _name = "followup.dispute.workflow"
    _description = "Invoice Dispute: Workflow"

    def _check_transition(self, target):
        for dispute in self:
            if rules.transition_error(dispute.state, target):
                raise UserError(
                    dispute._error_message(rules.ERR_TRANSITION, target=target)
                )

    def _change_state(self, target, values=None):
        """Move the disputes to ``target``; the one place where state changes.

        Disputes already in ``target`` are left alone (calling twice changes
        nothing); any other dispute must be in an allowed source state, else a
        UserError is raised before anything is written. Invoices that a closing
        dispute stops pausing resume their follow-up today, at the level where
        they stopped.

        :return: the disputes that changed
        """
        # Transitions are writes: whoever may only read a dispute cannot move it.
        self.check_access("write")
        todo = self.filtered(lambda dispute: dispute.state != target)
        todo._check_transition(target)
        if not todo:
            return todo
        paused_before = todo.line_ids.move_id.filtered("followup_dispute_paused")
        vals = dict(values or {}, state=target)
        if target in (rules.RESOLVED, rules.CANCELLED):
            vals["date_closed"] = todo.company_id[:1]._followup_today()
        # sudo: the workflow fields are written here only, after the checks above
        todo.sudo().write(vals)
        if not rules.is_active(target):
            todo._resume_invoices(paused_before)
        return todo

    def _resume_invoices(self, paused_before):
        """Invoices no longer paused resume from their level, counting the gap to
        the next level from today: no catch-up burst, no restart from zero."""
        paused_before.flush_recordset()
        resumed = paused_before.filtered(lambda move: not move.followup_dispute_paused)
        if resumed:
            # The controller closing a dispute may not edit invoices; the resume
            # date is the engine's bookkeeping, not an accounting change.
            for company, moves in resumed.grouped("company_id").items():
                moves.sudo().write({"followup_resume_date": company._followup_today()})

    def _send_customer_email(self, template_xmlid):
        """Post the template in the chatter and queue it to the customer."""
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        for dispute in self:
            dispute.with_context(mail_notify_force_send=False).message_post_with_source(
                template,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )

    def _resolve(self, resolution, rejection_reason=None, credit_notes=None):
        credit_notes = credit_notes or self.env["account.move"]
        error = rules.resolution_error(
            resolution, rejection_reason, credit_note_count=len(credit_notes)
        )
        if error:
            raise UserError(self._error_message(error))
        values = {"resolution": resolution}
        if rejection_reason:
            values["rejection_reason"] = rejection_reason.strip()
        changed = self._change_state(rules.RESOLVED, values)
        if credit_notes:
            # sudo: a workflow field, written after the checks of the resolution
            changed.sudo().write(
                {"credit_note_ids": [fields.Command.link(m.id) for m in credit_notes]}
            )
            changed._reconcile_credit_notes(credit_notes)
        changed._send_customer_email(
            "receivables_followup.mail_template_dispute_rejected"
            if resolution == rules.REJECTED
            else "receivables_followup.mail_template_dispute_resolved"
        )
        return True

    def _reconcile_credit_notes(self, credit_notes):
        """Reconcile each credit note with the invoice it reverses, or with all the
        dispute's invoices when it reverses none of them."""
        invoices = self.line_ids.move_id
        for note in credit_notes:
            targets = note.reversed_entry_id & invoices or invoices
            lines = (note.line_ids | targets.line_ids).filtered(
                lambda aml: (
                    aml.account_id.account_type == "asset_receivable"
                    and not aml.reconciled
                )
            )
            for account in lines.account_id:
                lines.filtered(
                    lambda aml, acc=account: aml.account_id == acc
                ).reconcile()

    def _check_credit_notes(self, credit_notes, allow_difference=False):
        """Refuse credit notes that cannot settle this dispute: not a posted credit
        note of its customer and company, already used up or by another dispute,
        or larger than the disputed amount unless the user confirmed it."""
        self.ensure_one()
        for note in credit_notes:
            self._check_credit_note_usable(note)
        self._check_credit_notes_unused(credit_notes)
        total = sum(abs(note.amount_total_signed) for note in credit_notes)
        currency = self.company_id.currency_id
        if currency.compare_amounts(total, self.amount_disputed) > 0 and not (
            allow_difference
        ):
            raise UserError(
                self.env._(
                    "The credit notes (%(total)s) exceed the disputed amount "
                    "(%(disputed)s): confirm the difference to leave the excess "
                    "as the customer's credit.",
                    total=currency.format(total),
                    disputed=currency.format(self.amount_disputed),
                )
            )

    def _check_credit_note_usable(self, note):
        """Refuse ``note`` unless it is a posted credit note of this dispute's
        customer and company with something left to settle (or settling this
        dispute's own invoices already)."""
        if (
            note.move_type != "out_refund"
            or note.state != "posted"
            or note.commercial_partner_id != self.partner_id
            or note.company_id != self.company_id
        ):
            raise UserError(
                self.env._(
                    "%(note)s is not a posted credit note of %(customer)s.",
                    note=note.display_name,
                    customer=self.partner_id.display_name,
                )
            )
        used_on = note._get_reconciled_invoices() - self.line_ids.move_id
        if note.currency_id.is_zero(note.amount_residual) and used_on:
            raise UserError(
                self.env._(
                    "%(note)s is already fully used: it settles nothing more.",
                    note=note.display_name,
                )
            )

    def _check_credit_notes_unused(self, credit_notes):
        """Refuse credit notes another dispute already settled with."""
        # sudo: another dispute using the note may be one the user cannot read
        used = (
            self.sudo()
            .search(
                [("credit_note_ids", "in", credit_notes.ids), ("id", "!=", self.id)]
            )
            .credit_note_ids
            & credit_notes
        )
        if used:
            raise UserError(
                self.env._(
                    "%(notes)s already settled another dispute.",
                    notes=", ".join(used.mapped("display_name")),
                )
            )
