from odoo import api, fields, models, tools
from odoo.tools import SQL

#: (bucket, label, first day overdue or None, last day overdue or None): the
#: buckets of OCA's account_financial_report aged partner balance. A line due
#: today or later is not due; a bucket's amount column is ``amount_<bucket>``.
AGE_BUCKETS = [
    ("not_due", "Not Due", None, 0),
    ("1_30", "1-30 days", 1, 30),
    ("31_60", "31-60 days", 31, 60),
    ("61_90", "61-90 days", 61, 90),
    ("91_plus", "Over 90 days", 91, None),
]


def bucket_amount_field(bucket):
    """The name of the column holding the amounts of ``bucket``."""
    return f"amount_{bucket}"


class FollowupReceivableAging(models.Model):
    """The open receivable journal items by how long they have been overdue, in
    age buckets, in company currency (a database view: the age is counted on
    the day the report is read).

    Every open posted line of a receivable account is a row, not only the
    invoices': unapplied payments and open credit notes count, negative, so that
    the total is the receivable accounts' balance.
    """

    _name = "followup.receivable.aging"
    _description = "Aged Receivables"
    _auto = False
    _rec_name = "move_id"
    _order = "date_maturity, id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True)
    account_id = fields.Many2one("account.account", readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    # the oldest item of a group tells how late a customer is
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    age_bucket = fields.Selection(
        [(bucket, label) for bucket, label, _first, _last in AGE_BUCKETS],
        string="Age",
        readonly=True,
    )
    amount_residual = fields.Monetary(
        string="Total Due", currency_field="currency_id", readonly=True
    )
    amount_not_due = fields.Monetary(
        string="Not Due", currency_field="currency_id", readonly=True
    )
    amount_1_30 = fields.Monetary(
        string="1-30 days", currency_field="currency_id", readonly=True
    )
    amount_31_60 = fields.Monetary(
        string="31-60 days", currency_field="currency_id", readonly=True
    )
    amount_61_90 = fields.Monetary(
        string="61-90 days", currency_field="currency_id", readonly=True
    )
    amount_91_plus = fields.Monetary(
        string="Over 90 days", currency_field="currency_id", readonly=True
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # The filter repeats account_move_line__unreconciled_index's predicate
        # word for word, so that PostgreSQL reads the open lines by that index.
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT aml.id, p.commercial_partner_id AS partner_id,
                           aml.company_id, c.currency_id, aml.move_id,
                           aml.account_id, ages.date_maturity, ages.days_overdue,
                           buckets.age_bucket, aml.amount_residual, %s
                      FROM account_move_line aml
                      JOIN account_account a ON a.id = aml.account_id
                      JOIN res_company c ON c.id = aml.company_id
                      LEFT JOIN res_partner p ON p.id = aml.partner_id
                     CROSS JOIN LATERAL (
                           SELECT COALESCE(aml.date_maturity, aml.date)
                                  AS date_maturity,
                                  CURRENT_DATE - COALESCE(aml.date_maturity, aml.date)
                                  AS days_overdue
                     ) ages
                     CROSS JOIN LATERAL (SELECT %s AS age_bucket) buckets
                     WHERE a.account_type = 'asset_receivable'
                       AND (aml.reconciled IS NULL OR aml.reconciled = false
                            OR aml.reconciled IS NOT true)
                       AND aml.parent_state = 'posted'
                       AND aml.amount_residual != 0
                )
                """,
                SQL.identifier(self._table),
                self._bucket_amounts(),
                self._bucket_case(),
            )
        )

    def _bucket_case(self):
        """The bucket of ``ages.days_overdue``, from AGE_BUCKETS."""
        whens = [
            SQL("WHEN ages.days_overdue <= %s THEN %s", last, bucket)
            for bucket, _label, _first, last in AGE_BUCKETS
            if last is not None
        ]
        last_bucket = AGE_BUCKETS[-1][0]
        return SQL("CASE %s ELSE %s END", SQL(" ").join(whens), last_bucket)

    def _bucket_amounts(self):
        """One column per bucket: the line's residual in its bucket, 0 elsewhere."""
        return SQL(", ").join(
            SQL(
                "CASE WHEN buckets.age_bucket = %s THEN aml.amount_residual "
                "ELSE 0 END AS %s",
                bucket,
                SQL.identifier(bucket_amount_field(bucket)),
            )
            for bucket, _label, _first, _last in AGE_BUCKETS
        )

    @api.model
    def _aged_by_customer(self, company):
        """The open receivables of ``company`` by customer, in one grouped read.

        Returns a dict: ``rows``, one per customer by name, each with
        ``partner`` (the commercial partner, empty for lines without one), one
        key per bucket amount field and ``amount_residual``; ``totals``, the same
        amounts summed; ``columns``, the amount fields in column order as
        (field name, label in the user's language).
        """
        amount_fields = [
            bucket_amount_field(bucket) for bucket, _label, _first, _last in AGE_BUCKETS
        ] + ["amount_residual"]
        groups = self._read_group(
            [("company_id", "=", company.id)],
            ["partner_id"],
            [f"{name}:sum" for name in amount_fields],
            order="partner_id",
        )
        rows = [
            {"partner": partner, **dict(zip(amount_fields, amounts, strict=True))}
            for partner, *amounts in groups
        ]
        totals = {
            name: company.currency_id.round(sum(row[name] for row in rows))
            for name in amount_fields
        }
        columns = [
            (name, self._fields[name]._description_string(self.env))
            for name in amount_fields
        ]
        return {"rows": rows, "totals": totals, "columns": columns}

    @api.model
    def _today(self):
        """The day the view counts the ages from (the database's)."""
        self.env.cr.execute("SELECT CURRENT_DATE")
        return self.env.cr.fetchone()[0]
