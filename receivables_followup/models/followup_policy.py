from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from ..services import legal
from ..services.levels import Level

_lt = LazyTranslate(__name__)

#: texts of the standard policy created for each company by code (not by a data
#: file, whose terms Odoo would translate itself): the customer reads the level
#: names in its reminders, so they are stored in every language the database
#: speaks (see _translate_standard_names)
STANDARD_POLICY = _lt("Standard follow-up")
FRIENDLY_REMINDER = _lt("Friendly reminder")
SECOND_REMINDER = _lt("Second reminder")
FORMAL_NOTICE = _lt("Formal notice")
HANDOFF_PROPOSAL = _lt("Agency hand-off proposal")
CALL_SUMMARY = _lt("Call the customer about overdue invoices")
HANDOFF_SUMMARY = _lt("Decide on handing the invoices to a collection agency")
STANDARD_TERMS = (
    STANDARD_POLICY,
    FRIENDLY_REMINDER,
    SECOND_REMINDER,
    FORMAL_NOTICE,
    HANDOFF_PROPOSAL,
    CALL_SUMMARY,
    HANDOFF_SUMMARY,
)


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
    customer_count = fields.Integer(
        string="Customers", compute="_compute_customer_count"
    )
    description = fields.Text(translate=True)
    promise_max_days = fields.Integer(
        string="Longest Promise to Pay (days)",
        default=30,
        help="A customer may promise to pay up to this many days ahead, from the "
        "portal or through a follow-up user; a later date needs a follow-up "
        "manager.",
    )
    reply_hold_days = fields.Integer(
        string="Hold After a Customer's Answer (days)",
        default=7,
        help="When the customer answers a reminder, its escalation waits this many "
        "days for the responsible to read and act on the answer; 0 does not hold "
        "(the answer still reaches the responsible).",
    )
    dispute_min_share = fields.Float(
        string="Smallest Dispute Pausing an Invoice (%)",
        default=10.0,
        help="A dispute of less than this share of what is left to pay on an "
        "invoice does not pause it: the undisputed rest keeps escalating.",
    )
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
        (
            "reply_hold_days_positive",
            "CHECK(reply_hold_days >= 0)",
            "The hold after a customer's answer cannot be negative.",
        ),
    ]

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    def _customer_domain(self):
        """The customers this policy applies to in its company: those that name
        it, and for the default policy those that name none."""
        self.ensure_one()
        domain = [
            ("customer_rank", ">", 0),
            ("parent_id", "=", False),
            ("collection_policy_id", "=", self.id),
        ]
        if self.is_default:
            domain = [
                ("customer_rank", ">", 0),
                ("parent_id", "=", False),
                "|",
                ("collection_policy_id", "=", self.id),
                ("collection_policy_id", "=", False),
            ]
        return domain + [
            "|",
            ("company_id", "=", False),
            ("company_id", "=", self.company_id.id),
        ]

    def _compute_customer_count(self):
        Partner = self.env["res.partner"]
        for policy in self:
            policy.customer_count = Partner.with_company(
                policy.company_id
            ).search_count(policy._customer_domain())

    def action_open_customers(self):
        """The customers this policy applies to."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Customers of %s", self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": self._customer_domain(),
        }

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
        policies = self.create(
            [
                {
                    "name": str(STANDARD_POLICY),
                    "company_id": company.id,
                    "is_default": True,
                    "level_ids": [
                        fields.Command.create(values)
                        for values in self._standard_levels_values()
                    ],
                }
                for company in companies - have_one
            ]
        )
        policies._translate_standard_names(
            [code for code, _name in self.env["res.lang"].get_installed()]
        )
        return policies

    def _standard_levels_values(self):
        """The values of the standard policy's levels, in their order: two
        reminders by e-mail (the second with a call), a formal notice reviewed
        before it leaves, and a hand-off to an agency proposed for review."""
        ref = self.env.ref
        activity_call = ref("receivables_followup.mail_activity_type_followup_call")
        return [
            {
                "name": str(FRIENDLY_REMINDER),
                "delay": 7,
                "send_email": True,
                "mail_template_id": ref(
                    "receivables_followup.mail_template_followup_friendly"
                ).id,
            },
            {
                "name": str(SECOND_REMINDER),
                "delay": 21,
                "send_email": True,
                "mail_template_id": ref(
                    "receivables_followup.mail_template_followup_firm"
                ).id,
                "create_activity": True,
                "activity_type_id": activity_call.id,
                "activity_summary": str(CALL_SUMMARY),
                "activity_deadline_days": 3,
            },
            {
                "name": str(FORMAL_NOTICE),
                "delay": 45,
                "send_email": True,
                "print_letter": True,
                "is_formal_notice": True,
                "manual_review": True,
                "mail_template_id": ref(
                    "receivables_followup.mail_template_followup_formal_notice"
                ).id,
            },
            {
                "name": str(HANDOFF_PROPOSAL),
                "delay": 75,
                "send_email": False,
                "manual_review": True,
                "propose_agency_handoff": True,
                "create_activity": True,
                "activity_type_id": activity_call.id,
                "activity_summary": str(HANDOFF_SUMMARY),
                "activity_deadline_days": 5,
            },
        ]

    def _translate_standard_names(self, lang_codes):
        """Store the standard policies' and levels' texts in ``lang_codes``,
        where they are still the English ones (never over a user's wording).

        Called when the standard policies are created and when a language's
        translations are loaded, so that a French customer reads "Relance
        amiable", not "Friendly reminder".
        """
        policies = self or self.search([])
        records = [(policies, "name"), (policies.level_ids, "name")]
        records.append((policies.level_ids, "activity_summary"))
        by_source = {term._translate("en_US"): term for term in STANDARD_TERMS}
        for recordset, field_name in records:
            for record in recordset:
                source = record.with_context(lang="en_US")[field_name]
                term = by_source.get(source)
                if not term:
                    continue
                for code in lang_codes:
                    if code == "en_US":
                        continue
                    localized = record.with_context(lang=code)
                    translated = term._translate(code)
                    if localized[field_name] == source and translated != source:
                        localized[field_name] = translated
