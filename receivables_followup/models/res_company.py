from datetime import datetime

import pytz

from odoo import api, fields, models

from odoo.addons.base.models.res_partner import _tz_get


class ResCompany(models.Model):
    _inherit = "res.company"

    followup_invoice_legal_amounts = fields.Boolean(
        string="Invoice Late-Payment Amounts",
        help="At a formal-notice level, prepare a draft invoice to the customer for "
        "the late-payment interest and the recovery indemnities.",
    )
    followup_partial_dispute_escalates = fields.Boolean(
        string="Undisputed Part Keeps Escalating",
        help="When only part of an invoice is disputed, the rest keeps escalating.",
    )
    followup_letter_report_id = fields.Many2one(
        "ir.actions.report",
        string="Follow-up Letter Layout",
        domain=[("model", "=", "followup.history")],
    )
    followup_letter_window = fields.Selection(
        [
            ("right", "Window on the right (French and Swiss DL envelopes)"),
            ("left", "Window on the left (German DIN 5008 envelopes)"),
        ],
        string="Letter Envelope Window",
        default="right",
        required=True,
        help="Where the follow-up letters print the recipient's address, so that "
        "it shows through the window of the company's envelopes.",
    )
    followup_handoff_min_days = fields.Integer(
        string="Hand Off After (Days Overdue)",
        default=60,
        help="An invoice goes to a collection agency only when it is overdue by "
        "at least this many days.",
    )
    followup_tz = fields.Selection(
        _tz_get,
        string="Follow-up Time Zone",
        compute="_compute_followup_tz",
        store=True,
        readonly=False,
        help="The follow-up day of the company starts at midnight in this time zone, "
        "whoever runs it: the scheduled action, a user abroad, the customer portal.",
    )

    @api.depends("country_id")
    def _compute_followup_tz(self):
        cron = self.env.ref(
            "receivables_followup.ir_cron_followup_run", raise_if_not_found=False
        )
        # sudo: the cron's user is configuration, not data of the caller's
        cron_tz = cron.sudo().user_id.tz if cron else False
        for company in self:
            if company.followup_tz:
                continue
            country_zones = pytz.country_timezones.get(
                (company.country_id.code or "").upper(), []
            )
            company.followup_tz = (
                country_zones[0] if country_zones else cron_tz or "UTC"
            )

    def _followup_today(self):
        """The company's follow-up day: today in its follow-up time zone.

        Every "today" of the follow-up (the run's date, the review buttons, the
        portal) is this one, so that a user in another time zone near midnight
        never starts a second run, nor dates an action differently from its run.
        """
        self.ensure_one()
        zone = pytz.timezone(self.followup_tz or "UTC")
        return datetime.now(zone).date()

    def _followup_days(self):
        """{company: its follow-up day} for these companies."""
        return {company: company._followup_today() for company in self}

    def _followup_load_chart(self, template_code):
        """Give this new company the chart of accounts ``template_code`` when
        its localisation module is installed, else Odoo's generic one: the demo
        data's French company gets the French chart where ``l10n_fr_account``
        is there, and installs anywhere."""
        self.ensure_one()
        ChartTemplate = self.env["account.chart.template"]
        template = ChartTemplate._get_chart_template_mapping(get_all=True).get(
            template_code
        )
        installed = template and self.env["ir.module.module"].search_count(
            [("name", "=", template["module"]), ("state", "=", "installed")]
        )
        if installed:
            # with its demo data, as Odoo's localisations load their demo
            # company (which also loads it once the registry is complete)
            ChartTemplate.try_loading(template_code, self, install_demo=True)
            return
        # the generic chart is in dollars: the company keeps its currency
        currency = self.currency_id
        ChartTemplate.try_loading("generic_coa", self)
        self.currency_id = currency

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # sudo: whoever may create a company gets its default follow-up policy,
        # even without the follow-up manager's right to create policies.
        self.env["followup.policy"].sudo()._create_default_policies(companies)
        return companies
