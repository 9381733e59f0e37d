from odoo import fields, models, tools
from odoo.tools import SQL


class FollowupReminderEffectMonth(models.Model):
    """The trend of each level's effectiveness, month by month (a database view
    over ``followup.reminder.effect``): one row per level and month of the
    reminders.

    A share or a median is exact for one level and one month; grouped wider, the
    views show the average of the rows (shares and medians do not add up).
    """

    _name = "followup.reminder.effect.month"
    _description = "Reminder Effectiveness by Month"
    _auto = False
    _rec_name = "level_id"
    _order = "month desc, level_id"

    month = fields.Date(
        readonly=True, help="The first day of the month of the reminders."
    )
    level_id = fields.Many2one("followup.level", readonly=True)
    policy_id = fields.Many2one("followup.policy", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    reminder_count = fields.Integer(string="Invoices Reminded", readonly=True)
    amount_claimed = fields.Monetary(
        string="Amount Claimed (Company Currency)", readonly=True
    )
    amount_paid_7 = fields.Monetary(string="Paid within 7 Days", readonly=True)
    amount_paid_30 = fields.Monetary(string="Paid within 30 Days", readonly=True)
    share_7 = fields.Float(
        string="Paid within 7 Days (%)",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
    )
    share_30 = fields.Float(
        string="Paid within 30 Days (%)",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
    )
    median_days = fields.Float(
        string="Median Days to Payment",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        Effect = self.env["followup.reminder.effect"]
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    -- the groups are disjoint: their smallest row id is unique
                    SELECT MIN(e.id) AS id,
                           date_trunc('month', e.date)::date AS month,
                           lv.id AS level_id, lv.policy_id, e.company_id,
                           e.currency_id, %s
                      FROM %s e
                      JOIN followup_level lv ON lv.id = e.level_id
                     GROUP BY date_trunc('month', e.date), lv.id, e.company_id,
                              e.currency_id
                )
                """,
                SQL.identifier(self._table),
                Effect._summary_columns("e"),
                SQL.identifier(Effect._table),
            )
        )
