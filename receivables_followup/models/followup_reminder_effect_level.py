from odoo import fields, models, tools
from odoo.tools import SQL


class FollowupReminderEffectLevel(models.Model):
    """How well each level's reminders get paid (a database view over
    ``followup.reminder.effect``): what the level claimed, the share paid within 7
    and 30 days and the median days to payment, one row per level.

    Shares and medians do not add up, so they are computed here, per level, rather
    than by the list's grouping: their columns have no aggregate.
    """

    _name = "followup.reminder.effect.level"
    _description = "Reminder Effectiveness by Level"
    _auto = False
    _rec_name = "level_id"
    _order = "level_id"

    level_id = fields.Many2one("followup.level", readonly=True)
    policy_id = fields.Many2one("followup.policy", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    reminder_count = fields.Integer(
        string="Invoices Reminded",
        readonly=True,
        help="Invoices reminded at this level, once per reminder.",
    )
    amount_claimed = fields.Monetary(
        string="Amount Claimed (Company Currency)", readonly=True
    )
    amount_paid_7 = fields.Monetary(string="Paid within 7 Days", readonly=True)
    amount_paid_30 = fields.Monetary(string="Paid within 30 Days", readonly=True)
    share_7 = fields.Float(
        string="Paid within 7 Days (%)",
        readonly=True,
        digits=(16, 1),
        aggregator=None,
        help="The share of the amount claimed paid within 7 days of the reminders.",
    )
    share_30 = fields.Float(
        string="Paid within 30 Days (%)",
        readonly=True,
        digits=(16, 1),
        aggregator=None,
        help="The share of the amount claimed paid within 30 days of the reminders.",
    )
    median_days = fields.Float(
        string="Median Days to Payment",
        readonly=True,
        digits=(16, 1),
        aggregator=None,
        help="Half the invoices paid after a reminder of this level were paid "
        "within this many days of it; the invoices still open are left out.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        Effect = self.env["followup.reminder.effect"]
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT lv.id, lv.id AS level_id, lv.policy_id, e.company_id,
                           e.currency_id, %s
                      FROM %s e
                      JOIN followup_level lv ON lv.id = e.level_id
                     GROUP BY lv.id, e.company_id, e.currency_id
                )
                """,
                SQL.identifier(self._table),
                Effect._summary_columns("e"),
                SQL.identifier(Effect._table),
            )
        )

    def action_open_reminders(self):
        """The invoices reminded at this level and what was paid of them."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_reminder_effect"
        )
        action["domain"] = [("level_id", "in", self.level_id.ids)]
        action["display_name"] = self.level_id.display_name
        return action
