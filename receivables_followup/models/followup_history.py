import logging

from odoo import api, fields, models

from ..services import legal, plan_rows
from ..services.interest import legal_amounts

_logger = logging.getLogger(__name__)

LEGAL_REGIMES = [
    (legal.FRENCH_LAW, "French law (L441-10)"),
    (legal.EU_DIRECTIVE, "EU late-payment directive"),
]


class FollowupHistory(models.Model):
    """One follow-up action: one message to one customer on one day.

    The record exists before anything leaves the building: the run plans it as
    ``pending`` (or ``to_review`` when a person must decide), then performs it and
    marks it ``done`` in the same transaction that queues the email, stores the letter
    and schedules the activity. A rolled-back batch therefore leaves neither a history
    nor an email, and the next run picks the pending record up again.

    The action's level is the highest one reached by its invoices; each invoice's own
    level and amounts are on its line (``followup.history.line``). Actions and their
    lines are written by the engine only: users act on them through the review
    buttons and wizards. This file holds the record and its planning; performing,
    reviewing and rendering are mixins beside it (``followup_history_*.py``).
    """

    _name = "followup.history"
    _inherit = [
        "followup.history.render",
        "followup.history.address",
        "followup.history.refresh",
        "followup.history.perform",
        "followup.history.review",
    ]
    _description = "Follow-up Action"
    _order = "date desc, id desc"
    _check_company_auto = True

    run_id = fields.Many2one(
        "followup.run", index=True, readonly=True, ondelete="set null"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    recipient_id = fields.Many2one(
        "res.partner",
        readonly=True,
        help="The contact the reminder is addressed to: the customer's invoicing "
        "contact when it has one.",
    )
    level_id = fields.Many2one(
        "followup.level",
        required=True,
        index=True,
        readonly=True,
        help="The highest level reached by the action's invoices: its message and "
        "channels are this level's.",
    )
    policy_id = fields.Many2one(related="level_id.policy_id", store=True)
    line_ids = fields.One2many(
        "followup.history.line", "history_id", string="Invoice Lines", readonly=True
    )
    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        compute="_compute_move_ids",
        search="_search_move_ids",
    )
    date = fields.Date(required=True, index=True, readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("to_review", "To Review"),
            ("done", "Done"),
            ("skipped", "Skipped"),
            ("postponed", "Postponed"),
            ("failed", "Failed"),
        ],
        required=True,
        default="pending",
        index=True,
        readonly=True,
    )
    origin = fields.Selection(
        [("cron", "Scheduled Action"), ("manual", "Manual")],
        default="cron",
        readonly=True,
    )
    user_id = fields.Many2one("res.users", string="Performed By", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_claimed = fields.Monetary(
        string="Amount Claimed (Company Currency)",
        readonly=True,
        help="Overdue amount of the invoices reminded, net of the customer's "
        "credits, in the company's currency. The customer reads it in the "
        "invoices' own currencies (Claimed).",
    )
    claim_summary = fields.Char(
        string="Claimed",
        compute="_compute_claim_summary",
        help="What the reminder claimed, in the invoices' own currencies.",
    )
    credit_amount = fields.Monetary(
        string="Credits Deducted (Company Currency)",
        readonly=True,
        help="The customer's unreconciled credit notes and payments, deducted from "
        "the amount claimed.",
    )
    legal_regime = fields.Selection(
        LEGAL_REGIMES,
        string="Late-Payment Law",
        readonly=True,
        help="The law whose late-payment interest and recovery indemnity the formal "
        "notice claims; empty when none applies to this customer.",
    )
    interest_amount = fields.Monetary(
        string="Late-Payment Interest (Company Currency)", readonly=True
    )
    indemnity_amount = fields.Monetary(
        string="Recovery Indemnities (Company Currency)", readonly=True
    )
    sent_email = fields.Boolean(readonly=True)
    sent_letter = fields.Boolean(readonly=True)
    sent_sms = fields.Boolean(string="Sent SMS", readonly=True)
    scheduled_activity = fields.Boolean(readonly=True)
    proposed_handoff = fields.Boolean(string="Proposed Agency Hand-off", readonly=True)
    mail_message_id = fields.Many2one(
        "mail.message", readonly=True, ondelete="set null"
    )
    attachment_id = fields.Many2one("ir.attachment", string="Letter", readonly=True)
    activity_id = fields.Many2one("mail.activity", readonly=True, ondelete="set null")
    legal_invoice_ids = fields.Many2many(
        "account.move",
        "followup_history_legal_invoice_rel",
        "history_id",
        "move_id",
        string="Late-Payment Invoices",
        readonly=True,
        help="Draft invoices of the late-payment amounts, one per currency.",
    )
    postponed_to = fields.Date(readonly=True)
    review_reason = fields.Char(
        readonly=True,
        help="Why a person must decide on this reminder before it goes out, when "
        "it is not the level's own rule.",
    )
    note = fields.Text(readonly=True)
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Follow-up Responsible",
        compute="_compute_responsible_user_id",
        help="The customer's follow-up responsible in the action's company, who "
        "signs the reminder.",
    )
    sender_email = fields.Char(
        string="Sender",
        compute="_compute_sender_email",
        help="The reminder's sender: the customer's follow-up responsible, else "
        "the company.",
    )
    recipient_lang = fields.Char(
        string="Reminder Language",
        compute="_compute_recipient_lang",
        help="The language the reminder is written in: the recipient's.",
    )

    @api.depends("partner_id", "level_id", "date")
    def _compute_display_name(self):
        for action in self:
            action.display_name = (
                f"{action.partner_id.display_name} - {action.level_id.name} "
                f"({action.date})"
            )

    @api.depends("line_ids.move_id")
    def _compute_move_ids(self):
        for action in self:
            action.move_ids = action.line_ids.move_id

    def _search_move_ids(self, operator, value):
        return [("line_ids.move_id", operator, value)]

    @api.depends("line_ids.currency_id", "line_ids.amount_claimed", "recipient_lang")
    def _compute_claim_summary(self):
        for action in self:
            action.claim_summary = action._followup_claim_text()

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------
    @api.model
    def _create_from_plan(  # noqa: PLR0913 - a plan and where it belongs
        self, company, day, run, plan, origin, legal_by_action=None
    ):
        """Create the pending (or to-review) actions of one slice of a run's plan.

        One INSERT for the actions and one for their invoice lines: a run plans
        tens of thousands of actions, and the ORM creates them one by one. The
        late-payment amounts of formal notices are computed here, so that a
        reviewer sees them in the preview.

        :param day: the actions' date
        :param run: the daily run planning them, or an empty recordset (a person
            sends a customer's next reminder now)
        :param legal_by_action: {index in plan.actions: (regime, [(interest,
            indemnity) per line, invoice currency], interest, indemnity in
            company currency)} for the formal notices
        """
        if not plan.actions:
            return self
        currency = company.currency_id
        partner_ids = {action.partner_id for action in plan.actions}
        recipients = self.env["res.partner"]._collection_invoice_contacts(partner_ids)
        legal = plan_rows.legal_rows(len(plan.actions), legal_by_action or {})
        columns = plan_rows.action_columns(
            plan.actions, recipients, legal, currency.round
        )
        actions = self._insert_plan_actions(company, day, run, origin, columns)
        self.env["followup.history.line"]._insert_plan_lines(
            actions, plan.actions, [row[1] for row in legal], currency
        )
        self.env["account.move"]._followup_mark_manual(
            plan_rows.manual_next_dates(plan)
        )
        return actions

    @api.model
    def _insert_plan_actions(self, company, day, run, origin, columns):
        """Insert the actions of ``columns`` (:func:`plan_rows.action_columns`)
        in one statement; return them in the order of the columns."""
        self.flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            plan_rows.INSERT_ACTIONS,
            {
                "run": run.id or None,
                "company": company.id,
                "date": day,
                "origin": origin,
                "uid": self.env.uid,
                "now": now,
                **columns,
            },
        )
        # one action per customer in a plan
        action_ids = {
            partner_id: action_id for action_id, partner_id in self.env.cr.fetchall()
        }
        return self.browse([action_ids[partner] for partner in columns["partners"]])

    @api.model
    def _hold_letters_without_address(self, plan, letter_level_ids):
        """A letter needs a postal address: a letter level planned for a customer
        without one (nor an invoicing contact with one) waits for review, with
        that reason, instead of producing a letter nobody can post."""
        letters = [act for act in plan.actions if act.level_id in letter_level_ids]
        if not letters:
            return
        Partner = self.env["res.partner"]
        contacts = Partner._collection_invoice_contacts(
            {action.partner_id for action in letters}
        )
        reason = self.env._(
            "No postal address for the letter: add one to the customer or to its "
            "invoicing contact."
        )
        for action in letters:
            addressees = Partner.browse(action.partner_id) | Partner.browse(
                contacts.get(action.partner_id, [])
            )
            if not any(p._followup_has_postal_address() for p in addressees):
                action.manual = True
                action.review_reason = reason

    @api.model
    def _legal_amounts_of_plan(self, company, day, plan, rows, formal_level_ids):
        """The late-payment amounts of the formal notices of ``plan``, planned
        on what each invoice's line shows.

        :returns: {index in plan.actions: (regime, [(interest, indemnity) per
            line, invoice currency], interest, indemnity in company currency)}
        """
        rows_by_id = {row.id: row for row in rows}
        formal = [
            (index, action)
            for index, action in enumerate(plan.actions)
            if action.level_id in formal_level_ids
        ]
        if not formal:
            return {}
        regimes = self._legal_regimes(
            company, {action.partner_id for _index, action in formal}
        )
        result, cache = {}, {}
        for index, action in formal:
            regime = regimes.get(action.partner_id)
            if not regime:
                continue
            result[index] = self._legal_amounts_of_lines(
                company,
                day,
                regime,
                [
                    (
                        line.currency_id,
                        line.residual_currency,
                        line.residual,
                        rows_by_id[line.invoice_id].due_date,
                    )
                    for line in action.lines
                ],
                cache,
            )
        return result

    @api.model
    def _legal_regimes(self, company, partner_ids):
        """{customer id: the late-payment regime of its formal notices, or None},
        from each customer's policy in ``company``."""
        partners = self.env["res.partner"].browse(list(partner_ids))
        eu_countries = set(self.env.ref("base.europe").country_ids.mapped("code"))
        regimes = {}
        for partner in partners.with_company(company):
            policy = partner._collection_policy(company)
            regimes[partner.id] = legal.legal_regime(
                policy.legal_amounts_scope or legal.SCOPE_DOMESTIC,
                company.country_id.code,
                partner.country_id.code,
                partner.is_company,
                eu_countries,
            )
        return regimes

    @api.model
    def _legal_amounts_of_lines(self, company, day, regime, lines, cache=None):
        """(regime, [(interest, indemnity)] in each line's currency, interest,
        indemnity in company currency) of one formal notice.

        :param lines: [(currency id, open amount in that currency, open amount in
            company currency, due date)]
        :param cache: a dict shared by the calls of one batch, holding the rates
            and the EUR 40 indemnity in each currency (converting it again for
            every invoice costs more than all the rest)
        """
        cache = {} if cache is None else cache
        if ("rates", regime) not in cache:
            cache["rates", regime] = self.env[
                "followup.interest.rate"
            ]._rates_for_regime(company, regime)
        rates = cache["rates", regime]
        per_line = []
        interest_company = indemnity_company = 0.0
        for currency_id, residual_currency, residual, due_date in lines:
            interest, indemnity_eur = legal_amounts(
                [(abs(residual_currency), due_date)], day, rates
            )
            in_currency, in_company = self._indemnity_of(
                company, currency_id, float(indemnity_eur), day, cache
            )
            currency = self.env["res.currency"].browse(currency_id)
            interest = currency.round(float(interest))
            per_line.append((interest, in_currency))
            rate = residual / residual_currency if residual_currency else 1.0
            interest_company += interest * rate
            indemnity_company += in_company
        currency = company.currency_id
        return (
            regime,
            per_line,
            currency.round(interest_company),
            currency.round(indemnity_company),
        )

    @api.model
    def _indemnity_of(self, company, currency_id, amount_eur, day, cache):
        """The indemnity ``amount_eur`` in a currency and in the company's."""
        key = ("indemnity", currency_id, amount_eur, day)
        if key not in cache:
            eur = self.env.ref("base.EUR")
            currency = self.env["res.currency"].browse(currency_id)
            cache[key] = (
                eur._convert(amount_eur, currency, company, day),
                eur._convert(amount_eur, company.currency_id, company, day),
            )
        return cache[key]

    # ------------------------------------------------------------------
    # Responsible, sender, language
    # ------------------------------------------------------------------
    def _compute_responsible_user_id(self):
        # The responsible is company dependent: read in one environment per
        # company for the whole batch, not one environment per reminder.
        for company, actions in self.grouped("company_id").items():
            # sudo: the responsible signs the reminder whoever reads it (billing
            # users may read actions, not the customer's follow-up settings)
            company_env = actions.partner_id.sudo().with_company(company).env
            for action in actions:
                action.responsible_user_id = action.partner_id.with_env(
                    company_env
                ).collection_user_id

    def _compute_sender_email(self):
        for action in self:
            action.sender_email = action._followup_sender_email()

    def _compute_recipient_lang(self):
        for action in self:
            action.recipient_lang = action._followup_lang()

    def _followup_lang(self):
        return self.recipient_id.lang or self.partner_id.lang or self.env.lang

    def _followup_sender_email(self):
        self.ensure_one()
        return (
            self.responsible_user_id.email_formatted or self.company_id.email_formatted
        )
