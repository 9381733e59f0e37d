from odoo import Command, _, api, models
from odoo.tools import format_amount

from .followup_agency_payment import BOOKED, REVERSED


class FollowupAgencyPayment(models.Model):
    """The reversal of a booked payment the agency deleted."""

    # apart from the booking, which would pass 600 lines with it
    _inherit = "followup.agency.payment"  # pylint: disable=consider-merging-classes-inherited

    def _create_reversal(self, lines):
        """The posted entry that undoes this payment: its receivable items
        reversed, the clearing account and the fee expense credited with what
        they were debited for it."""
        move = self.move_id
        company = self.company_id
        values = self._reversal_values(lines)
        reversal = (
            self.env["account.move"]
            .with_company(company)
            .with_context(tracking_disable=True)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": move.journal_id.id,
                    "date": max(company._followup_today(), move.date),
                    "currency_id": self.currency_id.id,
                    "ref": _(
                        "Reversal of %(move)s: payment %(payment)s deleted by the "
                        "agency",
                        move=move.name,
                        payment=self.agency_payment_id,
                    ),
                    "line_ids": [Command.create(line) for line in values],
                }
            )
        )
        reversal.action_post()
        return reversal.with_context(tracking_disable=False)

    def _reversal_values(self, lines):
        """The items of the reversal: ``lines`` (this payment's receivable
        credits) reversed, then the fee expense and the clearing account
        credited with what the booking debited them for this payment."""
        currency = self.currency_id
        _journal, clearing, fee_account, agency_partner = (
            self.agency_id._booking_accounts()
        )
        fee_balance = self._to_company(self.fee_amount) if self.fee_amount else 0.0
        values = self._reversed_items(lines)
        if self.fee_amount:
            values.append(
                {
                    "name": _(
                        "Success fee of %s, payment deleted", self.agency_id.name
                    ),
                    "account_id": fee_account.id,
                    "partner_id": agency_partner.id,
                    "currency_id": currency.id,
                    "amount_currency": -self.fee_amount,
                    "balance": -fee_balance,
                }
            )
        values.append(
            {
                "name": self._line_label(),
                "account_id": clearing.id,
                "partner_id": agency_partner.id,
                "currency_id": currency.id,
                "amount_currency": -currency.round(
                    -sum(lines.mapped("amount_currency")) - self.fee_amount
                ),
                "balance": self.company_id.currency_id.round(
                    sum(lines.mapped("balance")) + fee_balance
                ),
            }
        )
        return values

    @api.model
    def _reversed_items(self, lines):
        """The values of journal items undoing ``lines``, one per line."""
        return [
            {
                "name": line.name,
                "account_id": line.account_id.id,
                "partner_id": line.partner_id.id,
                "currency_id": line.currency_id.id,
                "amount_currency": -line.amount_currency,
                "balance": -line.balance,
            }
            for line in lines
        ]

    def _reverse(self):
        """Undo the payment the agency deleted: its items are reversed and the
        invoices it settled are open again."""
        self.ensure_one()
        invoices = self.env["account.move"]
        reversal = self.env["account.move"]
        move = self.move_id
        lines = self.move_line_ids.sorted("id")
        if self.state == BOOKED and lines:
            invoices = lines.matched_debit_ids.debit_move_id.move_id.filtered(
                lambda m: m.is_invoice(include_receipts=True)
            )
            reversal = self._reverse_items(lines)
        self.write(
            {
                "state": REVERSED,
                "reversal_move_id": reversal.id,
                "date_reversed": self.company_id._followup_today(),
            }
        )
        self._note_reversal(move, reversal, invoices)
        return reversal

    def _reverse_items(self, lines):
        """Unreconcile this payment's items ``lines``, book their reversal and
        reconcile it with them, and with what the entry left on the clearing
        account.

        :returns: the reversal entry
        """
        move = self.move_id
        # the entry may hold other payments of the same report: only this
        # payment's items are reversed, as Odoo's cancelling reversal does
        lines.remove_move_reconcile()
        reversal = self._create_reversal(lines)
        clearing = reversal.line_ids.filtered(
            lambda line: line.account_id == self.agency_id.clearing_account_id
        )
        owed = move.line_ids.filtered(
            lambda line: line.account_id == clearing.account_id
            and not line.followup_agency_payment_id
            and not line.reconciled
        )
        plan = [
            line | counterpart
            for line, counterpart in zip(
                lines, reversal.line_ids.sorted("id"), strict=False
            )
        ]
        if clearing and owed:
            plan.append(clearing | owed)
        self.env["account.move.line"]._reconcile_plan(plan)
        return reversal

    def _note_reversal(self, move, reversal, invoices):
        """Tell the case, and the invoices open again, that the agency deleted
        the payment booked in ``move`` (``reversal`` empty: nothing booked)."""
        amount = format_amount(self.env, self.amount, self.currency_id)
        if reversal:
            body = _(
                "The agency deleted payment %(payment)s of %(amount)s: %(move)s is "
                "reversed by %(reversal)s, the invoices are open again.",
                payment=self.agency_payment_id,
                amount=amount,
                move=move.name,
                reversal=reversal.name,
            )
        else:
            body = _(
                "The agency deleted payment %(payment)s of %(amount)s; nothing had "
                "been booked from it.",
                payment=self.agency_payment_id,
                amount=amount,
            )
        self.case_id.message_post(body=body, message_type="notification")
        for invoice in invoices:
            invoice.message_post(body=body, message_type="notification")
