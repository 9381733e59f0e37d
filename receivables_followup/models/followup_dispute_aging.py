from odoo import fields, models, tools
from odoo.tools import SQL

#: (bucket, label, first day, last day or None): how old the disputes are
AGE_BUCKETS = [
    ("0_30", "0-30 days", 0, 30),
    ("31_60", "31-60 days", 31, 60),
    ("61_90", "61-90 days", 61, 90),
    ("91_plus", "Over 90 days", 91, None),
]


class FollowupDisputeAging(models.Model):
    """The disputes by how long they have been open, in age buckets (a database
    view: the age is counted on the day the report is read)."""

    _name = "followup.dispute.aging"
    _description = "Dispute Aging"
    _auto = False
    _rec_name = "dispute_id"
    _order = "age_days desc, dispute_id"

    dispute_id = fields.Many2one("followup.dispute", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    reason_id = fields.Many2one("followup.dispute.reason", readonly=True)
    user_id = fields.Many2one("res.users", string="Responsible", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    state = fields.Selection(
        selection=lambda self: self.env["followup.dispute"]
        ._fields["state"]
        ._description_selection(self.env),
        readonly=True,
    )
    date_opened = fields.Date(readonly=True)
    age_days = fields.Integer(string="Age (days)", readonly=True, aggregator="avg")
    age_bucket = fields.Selection(
        [(bucket, label) for bucket, label, _first, _last in AGE_BUCKETS],
        string="Age",
        readonly=True,
    )
    amount_disputed = fields.Monetary(
        string="Disputed Amount (Company Currency)",
        currency_field="currency_id",
        readonly=True,
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT d.id, d.id AS dispute_id, d.partner_id, d.reason_id,
                           d.user_id, d.company_id, c.currency_id, d.state,
                           d.date_opened, ages.age_days,
                           %s AS age_bucket,
                           d.amount_disputed
                      FROM followup_dispute d
                      JOIN res_company c ON c.id = d.company_id
                     CROSS JOIN LATERAL (
                           SELECT COALESCE(d.date_closed, CURRENT_DATE)
                                  - d.date_opened AS age_days
                     ) ages
                )
                """,
                SQL.identifier(self._table),
                self._bucket_case(),
            )
        )

    def _bucket_case(self):
        whens = [
            SQL(
                "WHEN ages.age_days <= %s THEN %s",
                last,
                bucket,
            )
            for bucket, _label, _first, last in AGE_BUCKETS
            if last is not None
        ]
        last_bucket = AGE_BUCKETS[-1][0]
        return SQL("CASE %s ELSE %s END", SQL(" ").join(whens), last_bucket)
