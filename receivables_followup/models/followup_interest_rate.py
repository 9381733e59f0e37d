from odoo import api, fields, models


class FollowupInterestRate(models.Model):
    _name = "followup.interest.rate"
    _description = "Late-Payment Interest Rate"
    _order = "date_from desc, id desc"

    date_from = fields.Date(string="Applies From", required=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty for the rate every company uses unless it has its own.",
    )
    reference_rate = fields.Float(
        string="ECB Refinancing Rate (%)",
        digits=(6, 3),
        help="The ECB main refinancing rate on 1 January or 1 July.",
    )
    margin = fields.Float(string="Margin (points)", digits=(6, 3), default=10.0)
    rate = fields.Float(
        string="Annual Rate (%)",
        digits=(6, 3),
        compute="_compute_rate",
        store=True,
        readonly=False,
    )

    _sql_constraints = [
        (
            "date_company_uniq",
            "unique(date_from, company_id)",
            "There is already a rate from that date.",
        ),
    ]

    @api.depends("reference_rate", "margin")
    def _compute_rate(self):
        for rate in self:
            rate.rate = rate.reference_rate + rate.margin

    @api.model
    def _rates_for_company(self, company):
        """Return [(date_from, rate)] that apply to ``company``.

        A company's own rates replace the shared ones from their first date on.
        """
        rows = self.search_read(
            [("company_id", "in", [company.id, False])],
            ["date_from", "rate", "company_id"],
        )
        own = [(r["date_from"], r["rate"]) for r in rows if r["company_id"]]
        shared = [(r["date_from"], r["rate"]) for r in rows if not r["company_id"]]
        if not own:
            return shared
        first_own = min(day for day, _rate in own)
        return [item for item in shared if item[0] < first_own] + own
