from odoo import api, fields, models

from ..services import plan_rows


class FollowupHistoryLine(models.Model):
    """One invoice of a follow-up action, as the customer read it.

    An action reminds a customer of several invoices, each at its own stage: the
    line records the level this invoice reached and the amounts the reminder
    showed for it, in the invoice's own currency (what was open, the credits
    deducted from it, what was claimed), so that the history says exactly what was
    asked, whatever the exchange rates do afterwards. Lines are written by the
    engine only.
    """

    _name = "followup.history.line"
    _description = "Follow-up Action Invoice"
    _order = "history_id, date_due, move_id"
    # Inserted by the hundred thousand in one run and never edited: the action
    # records who and when, and each magic column would cost two more foreign-key
    # checks per line.
    _log_access = False

    history_id = fields.Many2one(
        "followup.history", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="history_id.company_id", store=True)
    partner_id = fields.Many2one(related="history_id.partner_id")
    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, index=True, readonly=True
    )
    level_id = fields.Many2one(
        "followup.level",
        readonly=True,
        help="The level this invoice reached with the action.",
    )
    date_due = fields.Date(string="Due Date", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount_residual = fields.Monetary(
        string="Open Amount",
        readonly=True,
        help="What was open on the invoice, less any disputed part.",
    )
    amount_credit = fields.Monetary(
        string="Credits Deducted",
        readonly=True,
        help="The part of the customer's credits deducted from this invoice.",
    )
    amount_claimed = fields.Monetary(
        readonly=True, help="The open amount less the credits deducted."
    )
    amount_claimed_company = fields.Monetary(
        string="Amount Claimed (Company Currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    interest_amount = fields.Monetary(string="Late-Payment Interest", readonly=True)
    indemnity_amount = fields.Monetary(string="Recovery Indemnity", readonly=True)

    @api.model
    def _insert_plan_lines(self, actions, planned, legal_per_action, currency):
        """Insert the lines of the planned actions in one statement.

        :param actions: the followup.history records, in the order of ``planned``
        :param planned: the planner's actions (with their lines)
        :param legal_per_action: for each action, None or [(interest, indemnity)]
            per line, in each line's currency
        :param currency: the company's currency
        """
        columns = plan_rows.line_columns(
            actions.ids, planned, legal_per_action, currency.round
        )
        self.flush_model()
        self.env.cr.execute(plan_rows.INSERT_LINES, columns)
        actions.invalidate_recordset(["line_ids", "move_ids"])
        self.env["account.move"].browse(columns["move"]).invalidate_recordset(
            ["followup_history_line_ids", "followup_history_ids"]
        )

    def _write_legal_amounts(self, amounts):
        """Store [(interest, indemnity)], one per line in order, in one UPDATE."""
        self.flush_recordset()
        self.env.cr.execute(
            """
            UPDATE followup_history_line l
               SET interest_amount = v.interest, indemnity_amount = v.indemnity
              FROM unnest(%s::int[], %s::numeric[], %s::numeric[])
                   AS v(id, interest, indemnity)
             WHERE l.id = v.id
            """,
            [
                self.ids,
                [interest for interest, _indemnity in amounts],
                [indemnity for _interest, indemnity in amounts],
            ],
        )
        self.invalidate_recordset(["interest_amount", "indemnity_amount"])
