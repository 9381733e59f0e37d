from collections import defaultdict
from dataclasses import dataclass

from odoo import Command, _, api, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date

from ..services import agency_booking


class FollowupAgencyPayment(models.Model):
    """The booking of the payments an agency holds (its reversal: see
    ``followup_agency_payment_reversal.py``)."""

    _inherit = "followup.agency.payment"

    def _book(self, commissions=None):
        """Book the payments the agency holds, together: one entry per journal,
        currency and date in the agency's journal (an agency's report is one
        entry), at the payment date's rate, reconciled with the invoices in one
        reconciliation plan.

        The entry debits the clearing account with what the agency owes (the
        amounts less the success fees) and the fee expense with the fees, and
        credits the debtors' receivables, an item per invoice settled, each
        naming its payment.

        :param commissions: ``{payment id: the success fee the agency says it
            withheld}``, in the payment's currency; absent or None: the case's
            rate times the amount
        """
        commissions = commissions or {}
        for company in self.company_id:
            self.filtered(lambda p, c=company: p.company_id == c)._book_company(
                commissions
            )

    def _book_company(self, commissions):
        """Book the payments of one company: their entries created and posted
        in one batch, reconciled with the invoices in one plan, the cases and
        the invoices told."""
        entries = self._group_bookings(commissions)
        moves = self._create_booking_entries(entries)
        plan = []
        for move, (_key, items) in zip(moves, entries, strict=True):
            plan += self._booking_plan(move, items)
            for payment, booking in items:
                payment.write(
                    {
                        "move_id": move.id,
                        "fee_rate": booking.fee_rate,
                        "fee_amount": booking.fee,
                        "amount_unallocated": booking.allocation.unallocated,
                    }
                )
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        booked = [pair for _key, items in entries for pair in items]
        self._note_bookings(booked)

    def _group_bookings(self, commissions):
        """Prepare each payment's booking, grouped by the entry it goes to.

        :returns: ``[((journal, currency, date), [(payment, booking)])]``
        """
        # what each invoice still owes once the payments before it in the batch
        # are booked: two payments on a case never take the same money
        residuals = {}
        groups = defaultdict(list)
        for payment in self:
            booking = payment._prepare_booking(commissions.get(payment.id), residuals)
            groups[booking.journal, payment.currency_id, payment.date].append(
                (payment, booking)
            )
        return list(groups.items())

    def _create_booking_entries(self, entries):
        """Create and post the entries of the grouped bookings (see
        :meth:`_group_bookings`), all in one batch.

        :returns: the entries, in the order of ``entries``
        """
        # no tracking: the entries are the engine's, the case and the invoices
        # get a note of each booking
        moves = (
            self.env["account.move"]
            .with_company(self.company_id)
            .with_context(tracking_disable=True)
            .create(
                [
                    {
                        "move_type": "entry",
                        "journal_id": journal.id,
                        "date": day,
                        "currency_id": currency.id,
                        "ref": self._entry_label(items),
                        "line_ids": [
                            Command.create(values)
                            for values in self._agency_items(currency, items)
                            + [
                                values
                                for _payment, booking in items
                                for values in booking.line_values
                            ]
                        ],
                    }
                    for (journal, currency, day), items in entries
                ]
            )
        )
        moves.action_post()
        return moves.with_context(tracking_disable=False)

    @api.model
    def _booking_plan(self, move, items):
        """The reconciliation plan of the entry ``move`` of the bookings
        ``items`` (``[(payment, booking)]``): each credit with its invoice's
        receivable items."""
        items_of = defaultdict(list)
        for line in move.line_ids.sorted("id"):
            items_of[line.followup_agency_payment_id.id].append(line)
        plan = []
        for payment, booking in items:
            own = items_of[payment.id]
            if len(own) != len(booking.line_values):
                raise UserError(
                    _("The entry %s was not created as expected.", move.name)
                )
            # Odoo's reconciliation: partial matching of each credit with
            # its invoice, the exchange difference in a foreign currency
            # booked by Odoo.
            for move_id, line in zip(booking.credit_keys, own, strict=True):
                if move_id:
                    plan.append(line | booking.receivable[move_id])
        return plan

    @api.model
    def _agency_items(self, currency, items):
        """The entry's items on the agency's side, for all its payments: the
        clearing account debited with what the agency owes, the fee expense
        with the success fees."""
        clearing, fee_account, agency_partner = items[0][1].accounts
        company_currency = items[0][0].company_id.currency_id
        bookings = [booking for _payment, booking in items]
        values = []
        net = currency.round(sum(booking.net for booking in bookings))
        if not currency.is_zero(net):
            values.append(
                {
                    "name": self._entry_label(items),
                    "account_id": clearing.id,
                    "partner_id": agency_partner.id,
                    "currency_id": currency.id,
                    "amount_currency": net,
                    "balance": company_currency.round(
                        sum(booking.net_balance for booking in bookings)
                    ),
                }
            )
        fee = currency.round(sum(booking.fee for booking in bookings))
        if not currency.is_zero(fee):
            payment, booking = items[0]
            rate = f"{booking.fee_rate:g}"
            label = (
                _(
                    "Success fee of %(agency)s (%(rate)s %%)",
                    agency=payment.agency_id.name,
                    rate=rate,
                )
                if len(items) == 1
                else _("Success fees of %s", payment.agency_id.name)
            )
            values.append(
                {
                    "name": label,
                    "account_id": fee_account.id,
                    "partner_id": agency_partner.id,
                    "currency_id": currency.id,
                    "amount_currency": fee,
                    "balance": company_currency.round(
                        sum(booking.fee_balance for booking in bookings)
                    ),
                }
            )
        return values

    def _entry_label(self, items):
        payment = items[0][0]
        if len(items) == 1:
            return payment._line_label()
        return _(
            "Agency %(agency)s: %(count)s payments collected",
            agency=payment.agency_id.name,
            count=len(items),
        )

    def _line_label(self):
        return _(
            "Agency %(agency)s, case %(case)s, payment %(payment)s",
            agency=self.agency_id.name,
            case=self.case_id.agency_reference or self.case_id.name,
            payment=self.agency_payment_id,
        )

    def _prepare_booking(self, commission, residuals):
        """What booking this payment writes: its items, the allocation over
        the case's open invoices (``residuals`` updated with it), the fee."""
        self.ensure_one()
        journal, clearing, fee_account, agency_partner = (
            self.agency_id._booking_accounts()
        )
        invoices = self._open_invoices(residuals)
        allocation = self._allocate(invoices, residuals)
        fee, fee_rate = self._withheld_fee(commission)
        receivable = {
            move.id: move.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
                and not line.reconciled
            )
            for move in invoices
        }
        credits = self._credits(invoices, allocation, receivable)
        total = self._to_company(self.amount)
        line_values = self._credit_values(credits, total)
        fee_balance = self._to_company(fee) if fee else 0.0
        return _Booking(
            journal=journal,
            accounts=(clearing, fee_account, agency_partner),
            line_values=line_values,
            credit_keys=[key for key, *_rest in credits],
            invoices=invoices,
            receivable=receivable,
            allocation=allocation,
            fee=fee,
            fee_rate=fee_rate,
            net=self.currency_id.round(self.amount - fee),
            net_balance=self.company_id.currency_id.round(total - fee_balance),
            fee_balance=fee_balance,
        )

    def _open_invoices(self, residuals):
        """The case's posted invoices in the payment's currency that still owe
        money once the payments before this one in the batch are booked."""
        currency = self.currency_id
        return self.case_id.line_ids.move_id.filtered(
            lambda move: move.state == "posted"
            and move.currency_id == currency
            and currency.compare_amounts(
                residuals.get(move.id, move.amount_residual), 0.0
            )
            > 0
        )

    def _allocate(self, invoices, residuals):
        """Spread the payment over ``invoices``; ``residuals`` takes what each
        invoice settled still owes after it.

        :returns: an ``agency_booking.Allocation`` keyed by invoice id
        """
        currency = self.currency_id
        allocation = agency_booking.allocate(
            self.amount,
            [
                agency_booking.OpenInvoice(
                    key=move.id,
                    reference=move.name,
                    due_date=move.invoice_date_due,
                    residual=residuals.get(move.id, move.amount_residual),
                )
                for move in invoices
            ],
            reference=self.invoice_reference,
            rounding=currency.rounding,
        )
        for move_id, amount in allocation.lines:
            residuals[move_id] = currency.round(
                residuals.get(move_id, invoices.browse(move_id).amount_residual)
                - amount
            )
        return allocation

    def _withheld_fee(self, commission):
        """The success fee the agency keeps of this payment: the commission it
        says it withheld when given (its rate derived from it), else the case's
        or the agency's rate times the amount.

        :returns: ``(fee, fee rate)``
        """
        currency = self.currency_id
        fee_rate = self.case_id.success_fee_rate or self.agency_id.default_fee_rate
        fee = agency_booking.success_fee(self.amount, fee_rate, currency.rounding)
        if commission is not None:
            fee = currency.round(commission)
            fee_rate = round(fee * 100.0 / self.amount, 2) if self.amount else 0.0
        if currency.is_zero(fee):
            fee = 0.0
        return fee, fee_rate

    def _credits(self, invoices, allocation, receivable):
        """The payment's receivable credits, ``[(invoice id, amount, account,
        partner, label)]``: one per invoice settled, on its receivable item's
        account, then what no invoice took (invoice id None) on the debtor's
        receivable account."""
        agency = self.agency_id
        debtor = self.case_id.partner_id
        credits = [
            (
                move_id,
                amount,
                receivable[move_id][:1].account_id,
                receivable[move_id][:1].partner_id or debtor,
                self.env._(
                    "Collected by %(agency)s for %(invoice)s",
                    agency=agency.name,
                    invoice=invoices.browse(move_id).name,
                ),
            )
            for move_id, amount in allocation.lines
        ]
        if not self.currency_id.is_zero(allocation.unallocated):
            credits.append(
                (
                    None,
                    allocation.unallocated,
                    debtor.with_company(self.company_id).property_account_receivable_id,
                    debtor,
                    _("Collected by %s, not matched with an invoice", agency.name),
                )
            )
        return credits

    def _credit_values(self, credits, total):
        """The items of ``credits`` (see :meth:`_credits`), in the payment's
        currency and the company's: the last one takes the rounding, so that
        the items sum to ``total``, the payment in the company's currency."""
        balances = [self._to_company(amount) for _key, amount, *_rest in credits]
        balances[-1] = self.company_id.currency_id.round(total - sum(balances[:-1]))
        return [
            {
                "followup_agency_payment_id": self.id,
                "currency_id": self.currency_id.id,
                "name": name,
                "account_id": account.id,
                "partner_id": partner.id,
                "amount_currency": -amount,
                "balance": -balance,
            }
            for (_key, amount, account, partner, name), balance in zip(
                credits, balances, strict=True
            )
        ]

    def _to_company(self, amount):
        """``amount`` in the payment's currency converted to the company's, at
        the payment date's rate."""
        company = self.company_id
        return self.currency_id._convert(
            amount, company.currency_id, company, self.date
        )

    @api.model
    def _note_bookings(self, booked):
        """Tell each case and each invoice settled what was booked
        (``[(payment, booking)]``), as notes logged in batches (one note per
        payment on a record)."""
        case_notes = []
        invoice_notes = []
        for payment, booking in booked:
            case_notes.append((payment.case_id, payment._booking_note(booking)))
            invoice_notes += [
                (booking.invoices.browse(move_id), payment._invoice_note(amount))
                for move_id, amount in booking.allocation.lines
            ]
        _log_notes(case_notes)
        _log_notes(invoice_notes)

    def _booking_note(self, booking):
        currency = self.currency_id
        env = self.env

        def money(amount):
            return format_amount(env, amount, currency)

        allocation = booking.allocation
        settled = ", ".join(
            f"{booking.invoices.browse(move_id).name} ({money(amount)})"
            for move_id, amount in allocation.lines
        )
        body = _(
            "%(agency)s collected %(amount)s on %(date)s (payment %(payment)s), "
            "booked in %(move)s. Settled: %(settled)s. Success fee: %(fee)s; the "
            "agency owes %(net)s.",
            agency=self.agency_id.name,
            amount=money(self.amount),
            date=format_date(env, self.date),
            payment=self.agency_payment_id,
            move=self.move_id.name,
            settled=settled or _("no invoice"),
            fee=money(self.fee_amount),
            net=money(self.amount - self.fee_amount),
        )
        if not currency.is_zero(allocation.unallocated):
            body += " " + _(
                "%s matched no open invoice of the case: it stays a credit of the "
                "debtor, to match by hand.",
                money(allocation.unallocated),
            )
        return body

    def _invoice_note(self, amount):
        return _(
            "%(amount)s collected by the agency %(agency)s (case %(case)s), "
            "booked in %(move)s.",
            amount=format_amount(self.env, amount, self.currency_id),
            agency=self.agency_id.name,
            case=self.case_id.name,
            move=self.move_id.name,
        )


@dataclass(frozen=True)
class _Booking:
    """What booking one payment writes, before and after its entry exists."""

    journal: models.BaseModel
    #: the agency's clearing account, fee account and partner
    accounts: tuple
    #: the payment's own items: its receivable credits
    line_values: list
    #: per credit item, the invoice it settles (None: the part left unmatched)
    credit_keys: list
    invoices: models.BaseModel
    receivable: dict
    allocation: agency_booking.Allocation
    fee: float
    fee_rate: float
    #: what the agency owes of the payment, in its currency and the company's
    net: float
    net_balance: float
    fee_balance: float


def _log_notes(notes):
    """Log ``[(record, body)]`` as internal notes, several bodies per record
    allowed, in as few batches as there are notes on the busiest record."""
    while notes:
        batch, later, taken = {}, [], set()
        for record, body in notes:
            if record in taken:
                later.append((record, body))
            else:
                taken.add(record)
                batch.setdefault(record._name, {})[record.id] = body
        for model, bodies in batch.items():
            first = next(record for record, _body in notes if record._name == model)
            records = first.browse(list(bodies))
            records._message_log_batch(bodies=bodies)
        notes = later
