"""Which reminders work: what was paid after each reminder, invoice by invoice.

One row per invoice of a reminder sent (a line of a ``done`` action), with what the
reminder claimed for it (in company currency) and what the customer paid of it
within 7 and 30 days. A payment is read from the invoice's reconciliations
(``account_partial_reconcile``): a partial counts from its ``max_date``, the date
the payment or credit note takes effect on the invoice.

Only what happened after the reminder counts. The claim is what was open when the
reminder was planned, net of the customer's credits at the time, so:

* a partial dated before the reminder is ignored (the claim already left it out; a
  credit deducted then and reconciled later is dated before the reminder too);
* a partial dated on the reminder's day counts only when it was recorded after the
  reminder (its ``create_date`` after the action's): the day's payments reconciled
  before the morning run were already deducted from the claim;
* what is paid is capped at the claim.

An invoice reminded at several levels has a row per reminder, each counting from
its own date: a payment 25 days after a first reminder and 5 days after the second
is within 30 days of the first and within 7 days of the second.
"""

from odoo import api, fields, models, tools
from odoo.tools import SQL

#: days after a reminder within which a payment counts as its effect; each window
#: gives the columns ``amount_paid_<days>`` and ``paid_within_<days>``
PAID_WINDOWS = (7, 30)


class FollowupReminderEffect(models.Model):
    """What was paid of each invoice after each reminder (a database view)."""

    _name = "followup.reminder.effect"
    _description = "Reminder Effectiveness"
    _auto = False
    _rec_name = "move_id"
    _order = "date desc, history_id desc, id"

    history_id = fields.Many2one(
        "followup.history", string="Follow-up Action", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    policy_id = fields.Many2one("followup.policy", readonly=True)
    level_id = fields.Many2one(
        "followup.level",
        readonly=True,
        help="The level this invoice reached with the reminder.",
    )
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    date = fields.Date(string="Reminder Date", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_claimed = fields.Monetary(
        string="Amount Claimed (Company Currency)",
        readonly=True,
        help="What the reminder claimed for this invoice: its open amount less "
        "the customer's credits deducted, in the company's currency.",
    )
    amount_paid_7 = fields.Monetary(
        string="Paid within 7 Days",
        readonly=True,
        help="The part of the amount claimed paid within 7 days of the reminder, "
        "in the company's currency.",
    )
    amount_paid_30 = fields.Monetary(
        string="Paid within 30 Days",
        readonly=True,
        help="The part of the amount claimed paid within 30 days of the reminder, "
        "in the company's currency.",
    )
    paid_within_7 = fields.Boolean(
        string="Fully Paid within 7 Days",
        readonly=True,
        help="The whole amount claimed was paid within 7 days of the reminder.",
    )
    paid_within_30 = fields.Boolean(
        string="Fully Paid within 30 Days",
        readonly=True,
        help="The whole amount claimed was paid within 30 days of the reminder.",
    )
    date_paid = fields.Date(
        readonly=True,
        help="The day the invoice was fully settled, by payments or credit notes "
        "(its last reconciliation); empty while it is open.",
    )
    paid_after = fields.Boolean(
        string="Paid after the Reminder",
        readonly=True,
        help="The invoice was fully paid, on the reminder's day or later.",
    )
    days_to_payment = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="Days from the reminder to the day the invoice was fully paid; empty "
        "while it is open, or when the payment that settled it is dated before "
        "the reminder.",
    )

    def init(self):
        # One pass of hash joins over the reminders' lines, the invoices'
        # receivable lines and their partials, grouped by reminder line: a
        # correlated subquery per line costs an index lookup per row and twice the
        # time on 100,000 invoices. The grouping keys are the primary keys, so a
        # filter on the view (a company, a level) still reaches the tables.
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(view)s AS (
                    SELECT e.id, e.history_id, e.partner_id, e.company_id,
                           e.policy_id, e.level_id, e.move_id, e.date,
                           e.currency_id, e.amount_claimed,
                           %(paid_columns)s,
                           e.date_paid,
                           COALESCE(e.date_paid >= e.date, FALSE) AS paid_after,
                           CASE WHEN e.date_paid >= e.date
                                THEN e.date_paid - e.date
                           END AS days_to_payment
                      FROM (
                        SELECT l.id, l.history_id, h.partner_id, h.company_id,
                               h.policy_id, l.level_id, l.move_id, h.date,
                               c.currency_id,
                               l.amount_claimed_company AS amount_claimed,
                               %(paid_sums)s,
                               -- fully paid: every receivable line reconciled
                               CASE WHEN bool_and(aml.reconciled)
                                    THEN MAX(p.max_date)
                               END AS date_paid
                          FROM followup_history_line l
                          JOIN followup_history h ON h.id = l.history_id
                          JOIN res_company c ON c.id = h.company_id
                          JOIN account_move_line aml ON aml.move_id = l.move_id
                          JOIN account_account a ON a.id = aml.account_id
                          LEFT JOIN account_partial_reconcile p
                                 ON p.debit_move_id = aml.id
                         WHERE h.state = 'done'
                           AND a.account_type = 'asset_receivable'
                         GROUP BY l.id, h.id, c.id
                      ) e
                )
                """,
                view=SQL.identifier(self._table),
                paid_columns=SQL(", ").join(
                    self._paid_columns(days) for days in PAID_WINDOWS
                ),
                paid_sums=SQL(", ").join(self._paid_sum(days) for days in PAID_WINDOWS),
            )
        )

    @api.model
    def _paid_sum(self, days):
        """What was paid of the invoice within ``days`` of the reminder: its
        partials dated from the reminder's day to ``days`` after, those of the
        reminder's day only when recorded after the reminder (``h`` the action,
        ``p`` the partial)."""
        return SQL(
            """
            COALESCE(SUM(p.amount) FILTER (
                WHERE p.max_date <= h.date + %(days)s
                  AND (p.max_date > h.date
                       OR (p.max_date = h.date AND p.create_date > h.create_date))
            ), 0) AS %(alias)s
            """,
            days=days,
            alias=SQL.identifier(f"paid_{days}"),
        )

    @api.model
    def _paid_columns(self, days):
        """``amount_paid_<days>`` (capped at the claim) and ``paid_within_<days>``
        (the whole claim paid), from the sums of ``_paid_sum``."""
        paid = SQL.identifier("e", f"paid_{days}")
        return SQL(
            "LEAST(%(paid)s, e.amount_claimed) AS %(amount)s, "
            "(e.amount_claimed > 0 AND %(paid)s >= e.amount_claimed) AS %(within)s",
            paid=paid,
            amount=SQL.identifier(f"amount_paid_{days}"),
            within=SQL.identifier(f"paid_within_{days}"),
        )

    @api.model
    def _summary_columns(self, alias):
        """The summary of the effect rows of ``alias``, to aggregate in a GROUP BY:
        reminder_count, amount_claimed, amount_paid_<days>, share_<days> (the
        percentage of the amount claimed paid within the window: a ratio of sums,
        each reminder weighing its amount) and median_days (the median days to
        payment of the invoices paid, the open ones left out)."""

        def column(name):
            return SQL.identifier(alias, name)

        claimed = SQL("SUM(%s)", column("amount_claimed"))
        columns = [
            SQL("COUNT(*) AS reminder_count"),
            SQL("%s AS amount_claimed", claimed),
        ]
        for days in PAID_WINDOWS:
            paid = SQL("SUM(%s)", column(f"amount_paid_{days}"))
            columns += [
                SQL("%s AS %s", paid, SQL.identifier(f"amount_paid_{days}")),
                SQL(
                    "100.0 * %s / NULLIF(%s, 0) AS %s",
                    paid,
                    claimed,
                    SQL.identifier(f"share_{days}"),
                ),
            ]
        columns.append(
            SQL(
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s) AS median_days",
                column("days_to_payment"),
            )
        )
        return SQL(", ").join(columns)

    @api.model
    def _level_summary(self, domain=None):
        """How well each level's reminders were paid, over the rows of ``domain``
        (the user's record rules applied), in one query.

        :returns: {followup.level: {"reminder_count", "amount_claimed",
            "amount_paid_7", "amount_paid_30" (company currency), "share_7",
            "share_30" (percentages of the amount claimed, None when nothing was
            claimed), "median_days" (None when nothing was paid)}}, in the levels'
            order
        """
        self.env.flush_all()
        query = self._search(list(domain or []) + [("level_id", "!=", False)])
        level = SQL.identifier(self._table, "level_id")
        query.groupby = level
        self.env.cr.execute(query.select(level, self._summary_columns(self._table)))
        rows = {row.pop("level_id"): row for row in self.env.cr.dictfetchall()}
        levels = self.env["followup.level"].browse(rows).sorted()
        return {level: _floats(rows[level.id]) for level in levels}


def _floats(row):
    """The row's numeric values as floats (the count as is, None kept)."""
    return {
        key: value if value is None or key == "reminder_count" else float(value)
        for key, value in row.items()
    }
