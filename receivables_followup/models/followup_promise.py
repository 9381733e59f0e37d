from odoo import api, fields, models

PROMISE_STATES = [
    ("open", "Open"),
    ("kept", "Kept"),
    ("broken", "Broken"),
    ("replaced", "Replaced"),
]


class FollowupPromise(models.Model):
    """One promise to pay one invoice by a date, and what became of it.

    The invoice carries only its current promised date; this record keeps each
    promise with the amount it covered, so that the promises kept and broken
    can be counted. The engine writes it: created when a promise is recorded
    (replacing the invoice's open one), closed by the daily run as kept when
    the invoice was paid, or as broken when the date passed unpaid.
    """

    _name = "followup.promise"
    _description = "Promise to Pay"
    _order = "date_promised desc, id desc"
    _check_company_auto = True

    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, index=True, readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount = fields.Monetary(
        string="Amount Promised",
        readonly=True,
        help="What was open on the invoice when the promise was made.",
    )
    amount_company = fields.Monetary(
        string="Amount Promised (Company Currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    date_made = fields.Date(string="Made On", required=True, readonly=True)
    date_promised = fields.Date(string="Promised For", required=True, readonly=True)
    date_closed = fields.Date(string="Closed On", readonly=True)
    state = fields.Selection(
        PROMISE_STATES, required=True, default="open", index=True, readonly=True
    )

    @api.model
    def _record(self, moves, promise_date, today):
        """Record the promise of ``moves`` for ``promise_date``; their open
        promises are replaced."""
        self.search([("move_id", "in", moves.ids), ("state", "=", "open")]).write(
            {"state": "replaced", "date_closed": today}
        )
        return self.create(
            [
                {
                    "move_id": move.id,
                    "partner_id": move.commercial_partner_id.id,
                    "company_id": move.company_id.id,
                    "currency_id": move.currency_id.id,
                    "amount": move.amount_residual,
                    "amount_company": abs(move.amount_residual_signed),
                    "date_made": today,
                    "date_promised": promise_date,
                }
                for move in moves
            ]
        )

    @api.model
    def _close(self, company_ids, today):
        """Close the open promises of these companies: kept when their invoice
        no longer waits for a payment, broken when their date passed."""
        open_promises = self.search(
            [("company_id", "in", list(company_ids)), ("state", "=", "open")]
        )
        paid = open_promises.filtered(
            lambda promise: promise.move_id.payment_state not in ("not_paid", "partial")
        )
        paid.write({"state": "kept", "date_closed": today})
        (open_promises - paid).filtered(
            lambda promise: promise.date_promised < today
        ).write({"state": "broken", "date_closed": today})
