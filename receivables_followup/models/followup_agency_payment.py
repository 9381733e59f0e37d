import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, format_date

from ..services import agency_booking
from ..services.debitura.payloads import naive_utc

_logger = logging.getLogger(__name__)

BOOKED = "booked"
RECORDED = "recorded"
REVERSED = "reversed"


class FollowupAgencyPayment(models.Model):
    """A payment an agency reports on a case, booked exactly once.

    Money the agency holds is booked in the agency's journal: its clearing
    account is debited, the debtor's receivable credited and reconciled with the
    invoices, and the success fee moves from the clearing account to an
    expense, so that what stays on the clearing account is what the agency owes.
    A payment the debtor made to the company directly is recorded only: the
    company's bank statement shows it. A payment the agency deletes is reversed.

    Records are created by :meth:`_sync_case_payments`, never by hand.
    """

    _name = "followup.agency.payment"
    _description = "Agency Payment"
    _order = "date desc, id desc"
    _rec_name = "agency_payment_id"
    _check_company_auto = True

    agency_id = fields.Many2one(
        "followup.agency", required=True, readonly=True, index=True, check_company=True
    )
    case_id = fields.Many2one(
        "followup.agency.case",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    partner_id = fields.Many2one(related="case_id.partner_id", string="Debtor")
    agency_payment_id = fields.Char(
        string="Agency Payment ID", required=True, readonly=True
    )
    invoice_reference = fields.Char(
        readonly=True, help="The invoice the agency says the payment settles."
    )
    date = fields.Date(readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    recipient = fields.Selection(
        [
            (agency_booking.RECIPIENT_AGENCY, "Collection Agency"),
            (agency_booking.RECIPIENT_COMPANY, "Company Directly"),
        ],
        string="Paid To",
        required=True,
        readonly=True,
    )
    method = fields.Char(string="Payment Method", readonly=True)
    fee_rate = fields.Float(string="Success Fee (%)", readonly=True, digits=(5, 2))
    fee_amount = fields.Monetary(
        string="Success Fee", readonly=True, currency_field="currency_id"
    )
    amount_unallocated = fields.Monetary(
        string="Not Matched",
        readonly=True,
        currency_field="currency_id",
        help="Part of the payment no open invoice of the case could take: it "
        "stays a credit of the debtor, to match by hand.",
    )
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", readonly=True, index="btree_not_null"
    )
    move_line_ids = fields.One2many(
        "account.move.line",
        "followup_agency_payment_id",
        string="Journal Items",
        readonly=True,
    )
    reversal_move_id = fields.Many2one(
        "account.move", string="Reversal Entry", readonly=True
    )
    state = fields.Selection(
        [
            (BOOKED, "Booked"),
            (RECORDED, "Recorded"),
            (REVERSED, "Reversed"),
        ],
        required=True,
        readonly=True,
        default=BOOKED,
        help="Booked: the agency holds the money, it is in the accounts. "
        "Recorded: the debtor paid the company directly, the bank statement "
        "books it. Reversed: the agency deleted the payment.",
    )
    agency_created_at = fields.Datetime(string="Reported On", readonly=True)
    date_reversed = fields.Date(readonly=True)

    _sql_constraints = [
        (
            "agency_payment_unique",
            "unique(agency_id, agency_payment_id)",
            "An agency's payment is recorded once.",
        )
    ]

    # ------------------------------------------------------------------
    # entry points
    # ------------------------------------------------------------------
    @api.model
    def _sync_case_payments(self, case, payments, complete=True):
        """Bring the case's payments in line with the agency's list.

        Books each payment not seen yet and reverses each booked payment the
        list no longer has (the agency deleted it). Safe to call again and
        concurrently: the case's row is locked first, and a payment id is
        unique per agency.

        :param case: a ``followup.agency.case``
        :param payments: the agency's full current list of ``AgencyPayment``
            for the case
        :param complete: False when ``payments`` are only the new ones (an
            agency's report): nothing absent from them is reversed
        :returns: ``(new, reversed)``, the payment records created and reversed
        """
        case.ensure_one()
        case = case.sudo()
        Payment = self.sudo().with_company(case.company_id)
        listed = Payment._listed_payments(case, payments)
        Payment._lock_cases(case)
        known = Payment.search(
            [
                ("agency_id", "=", case.agency_id.id),
                "|",
                ("case_id", "=", case.id),
                ("agency_payment_id", "in", list(listed)),
            ]
        )
        known_ids = set(known.mapped("agency_payment_id"))
        new = Payment._record_agency_payments(
            [(case, payment) for pid, payment in listed.items() if pid not in known_ids]
        )
        gone = known.filtered(
            lambda p: complete
            and p.case_id == case
            and p.state != REVERSED
            and p.agency_payment_id not in listed
        )
        for record in gone:
            record._reverse()
        if new or gone:
            Payment._touch_cases(case)
        return new, gone

    @api.model
    def _listed_payments(self, case, payments):
        """The agency's payments that are this case's, by payment id: one
        without an id, or naming another of the agency's cases, is logged and
        left out."""
        listed = {}
        for payment in payments:
            if not payment.payment_id:
                _logger.warning("Agency payment without an id on case %s", case.id)
                continue
            if (
                payment.case_id
                and case.agency_case_id
                and payment.case_id != case.agency_case_id
            ):
                _logger.warning(
                    "Agency payment %s of another case given for case %s",
                    payment.payment_id,
                    case.id,
                )
                continue
            listed[payment.payment_id] = payment
        return listed

    @api.model
    def _book_new_payments(self, items):
        """Record and book, in one batch, the payments of several cases that an
        agency reports as new (an agency's report).

        :param items: ``[(case, AgencyPayment)]`` of one agency, in the order
            they were reported
        :returns: one payment record per item, empty where the payment was
            recorded already (by a callback, a poll or another report)
        """
        if not items:
            return []
        cases = self.env["followup.agency.case"].sudo().concat(*(c for c, _p in items))
        Payment = self.sudo().with_company(cases.company_id[:1])
        Payment._lock_cases(cases)
        agency = cases.agency_id
        agency.ensure_one()
        known_ids = set(
            Payment.search(
                [
                    ("agency_id", "=", agency.id),
                    ("agency_payment_id", "in", [p.payment_id for _c, p in items]),
                ]
            ).mapped("agency_payment_id")
        )
        new_items = []
        for case, payment in items:
            if payment.payment_id not in known_ids:
                known_ids.add(payment.payment_id)
                new_items.append((case, payment))
        created = iter(Payment._record_agency_payments(new_items))
        by_payment_id = {p.payment_id: next(created) for _c, p in new_items}
        if new_items:
            Payment._touch_cases(cases)
        return [by_payment_id.pop(payment.payment_id, Payment) for _c, payment in items]

    @api.model
    def _reverse_agency_payment(self, case, payment_id):
        """Reverse the payment ``payment_id`` the agency deleted on ``case``.

        :returns: the payment reversed, or an empty recordset when it was not
            booked here or is reversed already
        """
        case.ensure_one()
        case = case.sudo()
        Payment = self.sudo().with_company(case.company_id)
        Payment._lock_cases(case)
        record = Payment.search(
            [
                ("agency_id", "=", case.agency_id.id),
                ("case_id", "=", case.id),
                ("agency_payment_id", "=", payment_id),
                ("state", "!=", REVERSED),
            ]
        )
        if not record:
            _logger.info(
                "Agency payment %s of case %s to reverse is unknown or reversed",
                payment_id,
                case.id,
            )
            return record
        record._reverse()
        Payment._touch_cases(case)
        return record

    # ------------------------------------------------------------------
    # exactly once
    # ------------------------------------------------------------------
    def _lock_cases(self, cases):
        """Wait for any other transaction booking the cases' payments (rows
        locked in id order, so that two batches never deadlock)."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR UPDATE",
                SQL.identifier(cases._table),
                tuple(cases.ids),
            ),
            # the waiting transaction failing to serialize is this lock's
            # purpose (see _touch_cases), and its caller retries: not an error
            # for the server's log
            log_exceptions=False,
        )

    def _touch_cases(self, cases):
        """Mark the cases' rows as changed: a transaction that was waiting for
        the lock, on a snapshot older than ours, then fails to serialize and is
        retried (it would not see the payments booked here otherwise)."""
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET write_date = %s, write_uid = %s WHERE id IN %s",
                SQL.identifier(cases._table),
                self.env.cr.now(),
                self.env.uid,
                tuple(cases.ids),
            )
        )
        cases.invalidate_recordset(["write_date", "write_uid"])

    # ------------------------------------------------------------------
    # recording and booking
    # ------------------------------------------------------------------
    @api.model
    def _record_agency_payments(self, items):
        """Create the payment records of ``[(case, AgencyPayment)]`` and book
        those the agency holds, all in one batch.

        :returns: the records created, in the order of ``items``
        """
        if not items:
            return self.browse()
        values = [self._payment_values(case, payment) for case, payment in items]
        records = self.create(values)
        commissions = {
            record.id: payment.commission
            for record, (_case, payment) in zip(records, items, strict=True)
        }
        records.filtered(lambda r: r.state == BOOKED)._book(commissions)
        records.filtered(lambda r: r.state == RECORDED)._note_recorded()
        return records

    @api.model
    def _payment_values(self, case, payment):
        recipient = agency_booking.recipient(payment.recipient)
        if not recipient:
            raise UserError(
                _(
                    "The agency reports payment %(payment)s on case %(case)s paid "
                    "to %(recipient)s, which is neither the agency nor the company.",
                    payment=payment.payment_id,
                    case=case.name,
                    recipient=payment.recipient or "?",
                )
            )
        if recipient == agency_booking.RECIPIENT_AGENCY:
            case.agency_id._booking_accounts()  # explain what is missing first
        currency = self._payment_currency(case, payment)
        amount = currency.round(payment.amount or 0.0)
        if currency.compare_amounts(amount, 0.0) <= 0:
            raise UserError(
                _(
                    "The agency reports payment %(payment)s on case %(case)s with "
                    "an amount of %(amount)s: only a positive amount can be booked.",
                    payment=payment.payment_id,
                    case=case.name,
                    amount=payment.amount,
                )
            )
        return {
            "agency_id": case.agency_id.id,
            "case_id": case.id,
            "company_id": case.company_id.id,
            "agency_payment_id": payment.payment_id,
            "invoice_reference": payment.invoice_reference,
            "date": payment.date or case.company_id._followup_today(),
            "amount": amount,
            "currency_id": currency.id,
            "recipient": recipient,
            "method": payment.method,
            "agency_created_at": naive_utc(payment.created_at),
            "state": (
                BOOKED if recipient == agency_booking.RECIPIENT_AGENCY else RECORDED
            ),
        }

    def _note_recorded(self):
        for record in self:
            record.case_id.message_post(
                body=_(
                    "The agency reports that the debtor paid %(amount)s to the "
                    "company directly on %(date)s (payment %(payment)s): nothing is "
                    "booked from the agency, the company's bank statement books it.",
                    amount=format_amount(self.env, record.amount, record.currency_id),
                    date=format_date(self.env, record.date),
                    payment=record.agency_payment_id,
                ),
                message_type="notification",
            )

    def _payment_currency(self, case, payment):
        if not payment.currency:
            return case.currency_id
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", payment.currency.upper())], limit=1)
        )
        if not currency:
            raise UserError(
                _(
                    "The agency reports payment %(payment)s in %(currency)s, a "
                    "currency unknown here.",
                    payment=payment.payment_id,
                    currency=payment.currency,
                )
            )
        return currency
