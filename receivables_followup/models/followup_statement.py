from collections import defaultdict
from urllib.parse import urlencode

from odoo import api, models
from odoo.tools import consteq
from odoo.tools.misc import hmac

from ..services.formatting import ReminderFormatter

#: scope of the signature of statement links (see _token)
TOKEN_SCOPE = "receivables_followup.statement"
#: the follow-up actions and disputes the statement lists, newest first
STATEMENT_HISTORY_LIMIT = 20
CUSTOMER_INVOICE_TYPES = ("out_invoice", "out_receipt")


class FollowupStatement(models.AbstractModel):
    """The customer's statement in one company, as its portal page shows it:
    open invoices, what is overdue and how to pay it, what was sent, disputes,
    promises and the hold of an answer.

    Everything is read with sudo for one commercial customer and one company:
    the portal controller decides who may see it (the customer's own portal
    users, or anyone holding the link's signed token).
    """

    _name = "followup.statement"
    _description = "Follow-up: Customer Statement"

    # ------------------------------------------------------------------
    # The signed link of the reminders
    # ------------------------------------------------------------------
    @api.model
    def _token(self, partner, company):
        """The token of the link that shows ``partner``'s statement in
        ``company`` without an account: a signature of both ids with the
        database's secret, so that nothing is stored and no id can be changed."""
        return hmac(
            self.env(su=True),
            TOKEN_SCOPE,
            f"{partner.commercial_partner_id.id}:{company.id}",
        )

    @api.model
    def _check_token(self, partner, company, token):
        # compared as bytes: consteq refuses str with non-ASCII characters,
        # which anyone can put in the link
        token = str(token or "").encode()
        return bool(token) and consteq(self._token(partner, company).encode(), token)

    @api.model
    def _query(self, partner, company, **extra):
        return urlencode(
            {
                "partner_id": partner.commercial_partner_id.id,
                "company_id": company.id,
                **extra,
                "access_token": self._token(partner, company),
            }
        )

    @api.model
    def _path(self, partner, company):
        return "/my/followup?" + self._query(partner, company)

    @api.model
    def _pay_path(self, partner, company, currency):
        return "/my/followup/pay?" + self._query(
            partner, company, currency_id=currency.id
        )

    @api.model
    def _pdf_path(self, partner, company):
        return "/my/followup/pdf?" + self._query(partner, company)

    # ------------------------------------------------------------------
    # What the statement shows
    # ------------------------------------------------------------------
    @api.model
    def _open_invoices(self, partner, company):
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("company_id", "=", company.id),
                    ("move_type", "in", CUSTOMER_INVOICE_TYPES),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
                order="invoice_date_due, name",
            )
        )

    @api.model
    def _payable_invoices(self, partner, company, currency):
        """The overdue invoices of ``currency`` one payment settles: those a
        dispute pauses are left for the dispute to decide."""
        return _payable(
            self._open_invoices(partner, company), currency, company._followup_today()
        )

    @api.model
    def _values(self, partner, company, lang):
        """Everything the statement page shows, formatted in ``lang``."""
        partner = partner.commercial_partner_id.sudo()
        env = self.with_context(lang=lang).env
        formatter = ReminderFormatter.for_lang(env, lang)
        today = company._followup_today()
        moves = self._open_invoices(partner, company)
        lines = self._invoice_lines(moves, lang, today, formatter)
        overdue = _overdue_by_currency(moves, today)
        payable = self._payable_values(
            partner, company, moves, overdue, today, formatter
        )
        credits = self._credit_lines(partner, company, formatter)
        held_until = _held_until(moves)
        return {
            "partner": partner,
            "company": company,
            "today": formatter.date(today),
            "lines": lines,
            "overdue_totals": [
                formatter.amount(amount, currency)
                for currency, amount in overdue.items()
            ],
            "payable": payable,
            "credits": credits,
            "open_totals": self._open_totals(moves, credits, formatter),
            "sent": self._sent_values(partner, company, env, formatter),
            "disputes": self._dispute_values(partner, company),
            "held_until": formatter.date(held_until) if held_until else "",
            "pdf_url": self._pdf_path(partner, company),
        }

    @api.model
    def _invoice_lines(self, moves, lang, today, formatter):
        """The open invoices ``moves`` as the statement lists them: their
        display lines, each with its move, whether it is overdue, its payment
        link and the date the customer promised to pay it."""
        moves_by_id = {move.id: move for move in moves}
        lines = moves._followup_display_lines(lang, today)
        for line in lines:
            move = moves_by_id[line["id"]]
            line.update(
                move=move,
                overdue=bool(move.invoice_date_due and move.invoice_date_due < today),
                pay_url=move.get_portal_url(),
                promise_date=formatter.date(move.followup_promise_date)
                if move.followup_promise_date
                else "",
            )
        return lines

    @api.model
    def _payable_values(self, partner, company, moves, overdue, today, formatter):
        """One payment offer per currency with something overdue that a
        payment settles (``_payable``): amount, count and link.

        :param overdue: ``{currency: amount}`` in the order to show
        """
        payable = []
        for currency in overdue:
            invoices = _payable(moves, currency, today)
            if invoices:
                payable.append(
                    {
                        "currency": currency.name,
                        "amount": formatter.amount(
                            sum(invoices.mapped("amount_residual")), currency
                        ),
                        "count": len(invoices),
                        "pay_url": self._pay_path(partner, company, currency),
                    }
                )
        return payable

    @api.model
    def _dispute_values(self, partner, company):
        """The customer's disputes in ``company``, newest first."""
        return (
            self.env["followup.dispute"]
            .sudo()
            .search(
                [("partner_id", "=", partner.id), ("company_id", "=", company.id)],
                limit=STATEMENT_HISTORY_LIMIT,
                order="id desc",
            )
        )

    @api.model
    def _credit_lines(self, partner, company, formatter):
        """The customer's payments and credit notes not yet matched with an
        invoice: what it already paid that the invoices above do not show."""
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("partner_id.commercial_partner_id", "=", partner.id),
                    ("company_id", "=", company.id),
                    ("account_id.account_type", "=", "asset_receivable"),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("amount_residual", "<", 0),
                ],
                order="date, id",
            )
        )
        return [
            {
                "name": line.move_id.name,
                "date": formatter.date(line.date),
                "currency": line.currency_id,
                "amount": line.amount_residual_currency,
                "amount_text": formatter.amount(
                    line.amount_residual_currency, line.currency_id
                ),
            }
            for line in lines
        ]

    @api.model
    def _open_totals(self, moves, credits, formatter):
        """What the customer owes, all items together, per currency."""
        totals = defaultdict(float)
        for move in moves:
            totals[move.currency_id] += move.amount_residual
        for credit in credits:
            totals[credit["currency"]] += credit["amount"]
        return [
            formatter.amount(amount, currency)
            for currency, amount in sorted(
                totals.items(), key=lambda item: item[0].name
            )
        ]

    @api.model
    def _sent_values(self, partner, company, env, formatter):
        """The reminders sent to the customer, newest first, as it received
        them: date, stage and channels."""
        actions = (
            self.env["followup.history"]
            .with_context(lang=env.lang)
            .sudo()
            .search(
                [
                    ("partner_id", "=", partner.id),
                    ("company_id", "=", company.id),
                    ("state", "=", "done"),
                ],
                limit=STATEMENT_HISTORY_LIMIT,
            )
        )
        channel_labels = (
            ("sent_email", env._("email")),
            ("sent_letter", env._("letter")),
            ("sent_sms", env._("SMS")),
        )
        return [
            {
                "date": formatter.date(action.date),
                "level": action.level_id.name,
                "channels": ", ".join(
                    label for field, label in channel_labels if action[field]
                ),
                "claimed": action.claim_summary or "",
            }
            for action in actions
            if any(action[field] for field, _label in channel_labels)
        ]


def _payable(moves, currency, today):
    """Those of the open invoices ``moves`` that one payment of ``currency``
    settles: overdue, and not paused by a dispute (the dispute decides)."""
    return moves.filtered(
        lambda move: move.currency_id == currency
        and move.invoice_date_due
        and move.invoice_date_due < today
        and not move.followup_dispute_paused
    )


def _overdue_by_currency(moves, today):
    """``{currency: amount overdue}`` of the open invoices ``moves``, ordered
    by the currency's name."""
    overdue = defaultdict(float)
    for move in moves:
        if move.invoice_date_due and move.invoice_date_due < today:
            overdue[move.currency_id] += move.amount_residual
    return dict(sorted(overdue.items(), key=lambda item: item[0].name))


def _held_until(moves):
    """The latest day to which an answer of the customer holds the follow-up
    of one of ``moves``, or None."""
    return max(
        (
            move.followup_answered_until
            for move in moves
            if move.followup_answered_until
        ),
        default=None,
    )
