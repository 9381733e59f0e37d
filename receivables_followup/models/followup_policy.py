from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..services import legal
from ..services.levels import Level


class FollowupPolicy(models.Model):
    _name = "followup.policy"
    _description = "Follow-up Policy"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    is_default = fields.Boolean(
        string="Default Policy",
        help="Applies to every customer of the company that has no policy of its own.",
    )
    level_ids = fields.One2many(
        "followup.level", "policy_id", string="Levels", copy=True
    )
    level_count = fields.Integer(compute="_compute_level_count")
    description = fields.Text(translate=True)
    legal_amounts_scope = fields.Selection(
        [
            (legal.SCOPE_NONE, "Never"),
            (legal.SCOPE_DOMESTIC, "French business customers (French law)"),
            (
                legal.SCOPE_EU,
                "French business customers, and other EU business customers "
                "under the EU late-payment directive",
            ),
            (legal.SCOPE_ALL, "Every business customer (French law)"),
        ],
        string="Late-Payment Amounts",
        required=True,
        default=legal.SCOPE_DOMESTIC,
        help="Which customers a formal notice claims late-payment interest and the "
        "EUR 40 recovery indemnity from. French law (L441-10, D441-5) applies to "
        "business customers of a company under French law; consumers never get "
        "them.",
    )

    _sql_constraints = [
        (
            "name_company_uniq",
            "unique(name, company_id)",
            "A policy name must be unique in a company.",
        ),
    ]

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    @api.constrains("is_default", "company_id", "active")
    def _check_one_default_per_company(self):
        for company in self.filtered("is_default").company_id:
            defaults = self.search_count(
                [("company_id", "=", company.id), ("is_default", "=", True)]
            )
            if defaults > 1:
                raise ValidationError(
                    _(
                        "Company %(company)s already has a default follow-up policy.",
                        company=company.display_name,
                    )
                )

    @api.model
    def _default_for_company(self, company):
        return self.search(
            [("company_id", "=", company.id), ("is_default", "=", True)], limit=1
        )

    def _engine_levels(self):
        """Return {policy_id: [Level, ...]} sorted by delay, for the engine."""
        levels = self.env["followup.level"].search_read(
            [("policy_id", "in", self.ids)],
            ["policy_id", "delay", "min_amount", "manual_review"],
            order="delay, sequence, id",
        )
        result = {policy_id: [] for policy_id in self.ids}
        for row in levels:
            result[row["policy_id"][0]].append(
                Level(
                    id=row["id"],
                    delay=row["delay"],
                    min_amount=row["min_amount"],
                    manual=row["manual_review"],
                )
            )
        return result

    @api.model
    def _create_default_policies(self, companies):
        """Create the standard four-level policy for companies that have none."""
        have_one = (
            self.with_context(active_test=False)
            .search([("company_id", "in", companies.ids), ("is_default", "=", True)])
            .company_id
        )
        ref = self.env.ref
        activity_call = ref("receivables_followup.mail_activity_type_followup_call")
        vals_list = []
        for company in companies - have_one:
            vals_list.append(
                {
                    "name": _("Standard follow-up"),
                    "company_id": company.id,
                    "is_default": True,
                    "level_ids": [
                        fields.Command.create(
                            {
                                "name": _("Friendly reminder"),
                                "delay": 7,
                                "send_email": True,
                                "mail_template_id": ref(
                                    "receivables_followup.mail_template_followup_friendly"
                                ).id,
                            }
                        ),
                        fields.Command.create(
                            {
                                "name": _("Second reminder"),
                                "delay": 21,
                                "send_email": True,
                                "mail_template_id": ref(
                                    "receivables_followup.mail_template_followup_firm"
                                ).id,
                                "create_activity": True,
                                "activity_type_id": activity_call.id,
                                "activity_summary": _(
                                    "Call the customer about overdue invoices"
                                ),
                                "activity_deadline_days": 3,
                            }
                        ),
                        fields.Command.create(
                            {
                                "name": _("Formal notice"),
                                "delay": 45,
                                "send_email": True,
                                "print_letter": True,
                                "is_formal_notice": True,
                                "manual_review": True,
                                "mail_template_id": ref(
                                    "receivables_followup.mail_template_followup_formal_notice"
                                ).id,
                            }
                        ),
                        fields.Command.create(
                            {
                                "name": _("Agency hand-off proposal"),
                                "delay": 75,
                                "send_email": False,
                                "manual_review": True,
                                "propose_agency_handoff": True,
                                "create_activity": True,
                                "activity_type_id": activity_call.id,
                                "activity_summary": _(
                                    "Decide on handing the invoices to a "
                                    "collection agency"
                                ),
                                "activity_deadline_days": 5,
                            }
                        ),
                    ],
                }
            )
        return self.create(vals_list)
