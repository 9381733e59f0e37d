from datetime import date

from odoo import api, fields, models

from ..services import legal


class FollowupInterestRate(models.Model):
    _name = "followup.interest.rate"
    _inherit = ["mail.thread", "mail.activity.mixin", "followup.shared.config"]
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
    def _rates_for_regime(self, company, regime):
        """[(date_from, annual rate)] of the late-payment ``regime`` for
        ``company`` (see services/legal.py)."""
        rows = self._rate_rows_for_company(company)
        return legal.regime_rates(
            [(row["date_from"], row["reference_rate"], row["rate"]) for row in rows],
            regime,
        )

    @api.model
    def _rate_rows_for_company(self, company):
        """The stored rates that apply to ``company``: its own replace the shared
        ones from their first date on."""
        rows = self.search_read(
            [("company_id", "in", [company.id, False])],
            ["date_from", "reference_rate", "rate", "company_id"],
        )
        own = [row for row in rows if row["company_id"]]
        shared = [row for row in rows if not row["company_id"]]
        if not own:
            return shared
        first_own = min(row["date_from"] for row in own)
        return [row for row in shared if row["date_from"] < first_own] + own

    # ------------------------------------------------------------------
    # The rate of the current half-year
    # ------------------------------------------------------------------
    @api.model
    def _cron_check_current_rate(self):
        """Scheduled action: warn the follow-up managers, with an activity, when
        the current half-year has no late-payment rate.

        The law sets the rate on 1 January and 1 July from the ECB's rate of
        that day; until a manager enters it, formal notices charge the last rate
        known. Running twice changes nothing: a manager has one open activity per
        missing half-year, and a crash loses at most that activity, created again
        by the next run.
        """
        today = fields.Date.context_today(self)
        period_start = date(today.year, 1 if today.month <= 6 else 7, 1)
        if self.search_count([("date_from", "=", period_start)]):
            return
        latest = self.search([("company_id", "=", False)], limit=1) or self.search(
            [], limit=1
        )
        if not latest:
            return
        summary = self.env._(
            "Enter the late-payment rate of the half-year from %(date)s",
            date=period_start.isoformat(),
        )
        managers = self.env.ref("receivables_followup.group_followup_manager").users
        managers = managers.filtered(lambda user: user._is_internal() and user.active)
        already = latest.activity_ids.filtered(
            lambda activity: activity.summary == summary
        ).user_id
        for user in managers - already - self.env.ref("base.user_root"):
            latest.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=today,
                summary=summary,
                note=self.env._(
                    "No late-payment interest rate applies from %(date)s: formal "
                    "notices charge the last known rate meanwhile. Enter the ECB "
                    "main refinancing rate of that day (the margin is added).",
                    date=period_start.isoformat(),
                ),
                user_id=user.id,
            )
