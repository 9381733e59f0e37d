from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.misc import format_date, formatLang

from ..services import position
from ..services.status import ESCALATING, MANUAL, PAUSED_ANSWERED

FOLLOWUP_USER = "receivables_followup.group_followup_user"
FOLLOWUP_MANAGER = "receivables_followup.group_followup_manager"
#: set by follow-up managers, or by follow-up users through the settings wizard
COLLECTION_FIELDS = frozenset(
    {"collection_user_id", "collection_policy_id", "collection_no_auto"}
)

#: statuses of the invoices a customer's answer holds
HELD_BY_ANSWER = (*ESCALATING, MANUAL, PAUSED_ANSWERED)
#: follow-up actions the customer's Follow-up tab lists
HISTORY_SHOWN = 20
#: how far up a reply's thread the reminder it answers is looked for
ANSWER_THREAD_DEPTH = 10

#: the address fields a letter needs to reach its recipient by post
POSTAL_FIELDS = ("street", "city", "country_id")


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Who follows the customer up and how: set by credit controllers only (a
    # contact creator could otherwise switch the follow-up off, or send the
    # reminders from their own address), and tracked in the customer's chatter.
    collection_user_id = fields.Many2one(
        "res.users",
        string="Follow-up Responsible",
        company_dependent=True,
        groups=FOLLOWUP_USER,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', current_company_id)]",
        help="The credit controller in charge of this customer; follow-up activities "
        "are assigned to this person.",
    )
    collection_policy_id = fields.Many2one(
        "followup.policy",
        string="Follow-up Policy",
        company_dependent=True,
        groups=FOLLOWUP_USER,
        tracking=True,
        domain="[('company_id', '=', current_company_id)]",
        help="Leave empty to use the company's default policy.",
    )
    collection_no_auto = fields.Boolean(
        string="No Automatic Follow-up",
        company_dependent=True,
        groups=FOLLOWUP_USER,
        tracking=True,
        help="Reminders for this customer are prepared for review and never sent "
        "automatically.",
    )
    collection_amount_due = fields.Monetary(
        string="Total Due",
        compute="_compute_collection_amounts",
        currency_field="collection_currency_id",
        help="In the customer's invoice currency when it is invoiced in one; in the "
        "company's currency otherwise (see Due by Currency).",
    )
    collection_amount_overdue = fields.Monetary(
        string="Total Overdue",
        compute="_compute_collection_amounts",
        currency_field="collection_currency_id",
    )
    collection_due_by_currency = fields.Text(
        string="Due by Currency",
        compute="_compute_collection_amounts",
        help="What the customer owes in each currency it is invoiced in.",
    )
    collection_overdue_by_level = fields.Text(
        string="Overdue by Level", compute="_compute_collection_amounts"
    )
    collection_next_date = fields.Date(
        string="Next Follow-up", compute="_compute_collection_amounts"
    )
    collection_currency_id = fields.Many2one(
        "res.currency", compute="_compute_collection_amounts"
    )
    collection_answered_until = fields.Date(
        string="Customer Answered, Held Until",
        compute="_compute_collection_answered_until",
        help="The customer answered a reminder: its escalation waits until this "
        "date in the current company.",
    )
    collection_invoice_ids = fields.Many2many(
        "account.move",
        string="Open Invoices",
        compute="_compute_collection_items",
        help="The customer's open invoices in the current company.",
    )
    collection_history_ids = fields.Many2many(
        "followup.history",
        string="Reminders Sent",
        compute="_compute_collection_items",
        help="The follow-up actions of the customer in the current company, "
        "newest first.",
    )
    collection_dispute_count = fields.Integer(
        string="Disputes", compute="_compute_collection_dispute_count"
    )
    collection_agency_case_count = fields.Integer(
        string="Agency Cases", compute="_compute_collection_agency_case_count"
    )

    def _collection_open_invoice_domain(self):
        return [
            ("commercial_partner_id", "in", self.commercial_partner_id.ids),
            ("company_id", "=", self.env.company.id),
            ("move_type", "in", ("out_invoice", "out_receipt")),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]

    def _compute_collection_amounts(self):
        """The customer's position in the current company, in the currency of its
        invoices: a customer invoiced in euros reads euros, whatever currency the
        company keeps its books in."""
        company = self.env.company
        due, overdue, by_level, next_dates = self._collection_amount_groups(company)
        no_level = self.env._("No level yet")
        for partner in self:
            commercial = partner.commercial_partner_id
            partner_due = due.get(commercial, {})
            currency, amount_due, amount_overdue = position.partner_totals(
                partner_due, overdue.get(commercial, {}), company.currency_id
            )
            partner.collection_currency_id = currency
            partner.collection_amount_due = amount_due
            partner.collection_amount_overdue = amount_overdue
            partner.collection_next_date = next_dates.get(commercial, False)
            partner.collection_due_by_currency = self._collection_due_text(partner_due)
            partner.collection_overdue_by_level = self._collection_level_text(
                by_level.get(commercial, {}), no_level
            )

    def _collection_amount_groups(self, company):
        """These customers' open invoices in ``company``, in three grouped reads.

        :returns: ``due``, ``overdue`` and ``by_level`` of
            :func:`position.group_totals`, and {customer: its next follow-up date}
        """
        today = company._followup_today()
        moves = self.env["account.move"]
        domain = self._collection_open_invoice_domain()
        groups = moves._read_group(
            domain,
            ["commercial_partner_id", "currency_id"],
            ["amount_residual:sum", "amount_residual_signed:sum"],
        )
        overdue_groups = moves._read_group(
            domain + [("invoice_date_due", "<", today)],
            ["commercial_partner_id", "currency_id", "followup_level_id"],
            ["amount_residual:sum", "amount_residual_signed:sum"],
        )
        next_dates = dict(
            moves._read_group(
                domain + [("followup_status", "in", ESCALATING + (MANUAL,))],
                ["commercial_partner_id"],
                ["followup_next_date:min"],
            )
        )
        return (*position.group_totals(groups, overdue_groups), next_dates)

    @api.model
    def _collection_due_text(self, partner_due):
        """What a customer invoiced in several currencies owes in each, one
        currency a line; False for a customer invoiced in one."""
        if len(partner_due) < 2:
            return False
        return "\n".join(
            f"{cur.name}: {cur.format(values[0])}"
            for cur, values in sorted(
                partner_due.items(), key=lambda item: item[0].name
            )
        )

    @api.model
    def _collection_level_text(self, partner_by_level, no_level):
        """What a customer owes overdue at each level, lowest level first, one
        level a line (``no_level`` names the invoices not reminded yet)."""
        return "\n".join(
            "{}: {}".format(
                level.name or no_level,
                ", ".join(cur.format(amount) for cur, amount in amounts),
            )
            for level, amounts in sorted(
                partner_by_level.items(), key=lambda item: item[0].delay
            )
        )

    def _compute_collection_items(self):
        Move = self.env["account.move"]
        History = self.env["followup.history"]
        readable = History.has_access("read")
        for partner in self:
            partner.collection_invoice_ids = Move.search(
                partner._collection_open_invoice_domain(),
                order="invoice_date_due, name",
            )
            partner.collection_history_ids = (
                History.search(
                    [
                        ("partner_id", "=", partner.commercial_partner_id.id),
                        ("company_id", "=", self.env.company.id),
                    ],
                    limit=HISTORY_SHOWN,
                )
                if readable
                else History
            )

    def _compute_collection_answered_until(self):
        held = dict(
            self.env["account.move"]._read_group(
                self._collection_open_invoice_domain()
                + [("followup_answered_until", "!=", False)],
                ["commercial_partner_id"],
                ["followup_answered_until:max"],
            )
        )
        for partner in self:
            partner.collection_answered_until = held.get(
                partner.commercial_partner_id, False
            )

    def _compute_collection_dispute_count(self):
        counts = dict(
            self.env["followup.dispute"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.collection_dispute_count = counts.get(
                partner.commercial_partner_id, 0
            )

    @api.model
    def _collection_invoice_contacts(self, partner_ids):
        """{commercial partner: its first invoicing contact}, for the reminders."""
        contacts = self.search_read(
            [
                ("parent_id", "in", list(partner_ids)),
                ("type", "=", "invoice"),
                ("email", "!=", False),
            ],
            ["parent_id"],
            order="id desc",
        )
        return {row["parent_id"][0]: row["id"] for row in contacts}

    def write(self, vals):
        if COLLECTION_FIELDS.intersection(vals) and not (
            self.env.su or self.env.user.has_group(FOLLOWUP_MANAGER)
        ):
            raise AccessError(
                _(
                    "A customer's follow-up responsible, policy and automatic "
                    "follow-up change through its Follow-up tab (Change Settings), "
                    "with a reason."
                )
            )
        return super().write(vals)

    @api.constrains("collection_policy_id", "collection_user_id")
    def _check_collection_company(self):
        """A customer's policy and responsible in a company are that company's:
        another company's policy would never run, and would hide the customer
        from this company's follow-up."""
        company = self.env.company
        for partner in self.sudo().with_company(company):
            policy = partner.collection_policy_id
            if policy and policy.company_id != company:
                raise ValidationError(
                    _(
                        "The follow-up policy of %(customer)s in %(company)s must "
                        "be one of %(company)s's policies.",
                        customer=partner.display_name,
                        company=company.display_name,
                    )
                )
            user = partner.collection_user_id
            if user and (user.share or company not in user.company_ids):
                raise ValidationError(
                    _(
                        "The follow-up responsible of %(customer)s must be an "
                        "internal user of %(company)s.",
                        customer=partner.display_name,
                        company=company.display_name,
                    )
                )

    def _followup_has_postal_address(self):
        """Whether a letter to this contact can be posted."""
        self.ensure_one()
        if not all(self[name] for name in POSTAL_FIELDS):
            return False
        return bool(self.zip) or not self.country_id.zip_required

    def _collection_policy(self, company):
        """The policy that applies to this customer in ``company``."""
        self.ensure_one()
        # sudo: the policy decides for everyone acting on the customer's
        # invoices (the portal, a billing user), not only for credit controllers
        policy = (
            self.sudo().with_company(company).commercial_partner_id.collection_policy_id
        )
        return policy or self.env["followup.policy"].sudo()._default_for_company(
            company
        )

    def _followup_change_settings(self, company, values, note):
        """Write the follow-up settings ``values`` of these customers in
        ``company`` and log ``note`` (plain text, escaped) on each.

        Only the follow-up's wizards call this, after checking who asks and
        making them say why: sudo, because the fields are closed to direct
        writes; the tracking and the note say who changed what and why.
        """
        if company not in self.env.user.company_ids:
            raise AccessError(_("Choose one of your companies."))
        partners = self.sudo()
        partners.with_company(company).write(values)
        partners._message_log_batch(
            bodies=dict.fromkeys(partners.ids, Markup("%s") % note)
        )

    # ------------------------------------------------------------------
    # The customer answers a reminder
    # ------------------------------------------------------------------
    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        context = self.env.context
        if (
            context.get("followup_inbound_email")
            and not context.get("followup_automatic_reply")
            and message.message_type == "email"
            and message.parent_id
        ):
            reminder = self._followup_answered_reminder(message)
            if reminder:
                self._followup_receive_answer(message, reminder)
        return result

    def _followup_answered_reminder(self, message):
        """The follow-up reminder that ``message`` answers, directly or down
        the thread of replies, or an empty recordset."""
        # sudo: the mail gateway's user reads the engine's actions
        History = self.env["followup.history"].sudo()
        parent = message.sudo().parent_id
        for _depth in range(ANSWER_THREAD_DEPTH):
            if not parent:
                break
            reminder = History.search([("mail_message_id", "=", parent.id)], limit=1)
            if reminder:
                return reminder
            parent = parent.parent_id
        return History

    def _followup_receive_answer(self, message, reminder):
        """Hold the customer's escalation in the reminder's company for the
        policy's number of days, and ask its responsible to read the answer."""
        company = reminder.company_id
        customer = reminder.partner_id.commercial_partner_id.sudo().with_company(
            company
        )
        policy = reminder.policy_id or customer._collection_policy(company)
        today = company._followup_today()
        until = today + timedelta(days=policy.reply_hold_days)
        if policy.reply_hold_days:
            held = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("commercial_partner_id", "=", customer.id),
                        ("company_id", "=", company.id),
                        ("followup_status", "in", HELD_BY_ANSWER),
                    ]
                )
            )
            held.with_context(tracking_disable=True).write(
                {"followup_answered_until": until}
            )
            note = _(
                "%(author)s answered the reminder of %(date)s: the follow-up of "
                "%(invoices)s waits until %(until)s.",
                author=message.email_from or message.author_id.display_name,
                date=format_date(self.env, reminder.date),
                invoices=", ".join(held.mapped("name")) or _("no open invoice"),
                until=format_date(self.env, until),
            )
        else:
            note = _(
                "%(author)s answered the reminder of %(date)s (the policy does not "
                "hold the follow-up for an answer).",
                author=message.email_from or message.author_id.display_name,
                date=format_date(self.env, reminder.date),
            )
        customer._message_log(body=Markup("%s") % note)
        customer._followup_schedule_answer_activity(reminder, message, today)

    def _followup_schedule_answer_activity(self, reminder, message, today):
        """One open "customer answered" activity per customer: a second answer
        moves its deadline to today rather than adding another."""
        activity_type = self.env.ref(
            "receivables_followup.mail_activity_type_customer_answered"
        )
        summary = _(
            "Answer to the reminder of %(date)s: %(subject)s",
            date=format_date(self.env, reminder.date),
            subject=message.subject or "",
        )
        open_activity = self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == activity_type
        )
        if open_activity:
            open_activity.write({"date_deadline": today, "summary": summary})
            return
        user = (
            self.collection_user_id
            or reminder.responsible_user_id
            or self.user_id
            or reminder.user_id
        )
        self.activity_schedule(
            act_type_xmlid="receivables_followup.mail_activity_type_customer_answered",
            date_deadline=today,
            summary=summary,
            user_id=user.id or self.env.ref("base.user_admin").id,
        )

    def action_followup_send_now(self):
        """Send this customer's next reminder now, in the current company,
        without waiting for its level's delay; open what was done."""
        self.ensure_one()
        if not self.env.user.has_group(FOLLOWUP_USER):
            raise AccessError(_("Only follow-up users may send a reminder."))
        customer = self.commercial_partner_id
        customer.check_access("read")
        # sudo: the engine plans and performs on the user's behalf; the action
        # records who sent it
        actions = (
            self.env["followup.run"].sudo()._send_next_now(self.env.company, customer)
        )
        if not actions:
            raise UserError(
                _(
                    "Nothing to send: %(customer)s has no overdue invoice with a "
                    "next level, its credits cover what it owes, or a reminder "
                    "already waits for review.",
                    customer=customer.display_name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": "followup.history",
            "res_id": actions[:1].id,
            "view_mode": "form",
            "target": "current",
        }

    def action_followup_lift_hold(self):
        """End the hold of the customers' answers now, in the user's companies:
        the responsible read the answer and the follow-up resumes."""
        if not self.env.user.has_group(FOLLOWUP_USER):
            raise AccessError(_("Only follow-up users may lift a hold."))
        moves = self.env["account.move"].search(
            [
                ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "in", self.env.companies.ids),
                ("followup_answered_until", "!=", False),
            ]
        )
        moves._followup_end_holds(
            self.env._(
                "%(user)s lifted the hold for the customer's answer: the "
                "follow-up of %(invoices)s resumes."
            ),
            user=self.env.user.name,
        )
        return True

    def _followup_log_hold_end(self, note):
        """Log the end of a hold on the customer and close its "customer
        answered" activity."""
        self.ensure_one()
        customer = self.sudo()
        customer._message_log(body=Markup("%s") % note)
        activity_type = self.env.ref(
            "receivables_followup.mail_activity_type_customer_answered"
        )
        customer.activity_ids.filtered(
            lambda activity: activity.activity_type_id == activity_type
        ).action_feedback(feedback=note)

    def action_open_followup_report(self):
        self.ensure_one()
        return self.env.ref(
            "receivables_followup.action_report_followup_partner"
        ).report_action(self.commercial_partner_id)

    def action_open_followup_settings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Follow-up Settings"),
            "res_model": "followup.partner.settings",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_open_dispute(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Open Dispute"),
            "res_model": "followup.dispute",
            "view_mode": "form",
            "target": "current",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_open_followup_disputes(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Disputes"),
            "res_model": "followup.dispute",
            "view_mode": "list,form",
            "domain": [("partner_id", "=", self.commercial_partner_id.id)],
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_open_handoff_wizard(self):
        self.ensure_one()
        moves = self.env["account.move"].search(
            self._collection_open_invoice_domain()
            + [("invoice_date_due", "<", self.env.company._followup_today())]
        )
        return self.env["followup.handoff.wizard"]._open_for(moves)

    def action_open_agency_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_case"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action

    def _compute_collection_agency_case_count(self):
        counts = dict(
            self.env["followup.agency.case"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.collection_agency_case_count = counts.get(
                partner.commercial_partner_id, 0
            )

    def _collection_report_values(self):
        """Overdue invoices of this customer in the current company, for display."""
        self.ensure_one()
        today = self.env.company._followup_today()
        env = self.with_context(lang=self.lang).env
        moves = self.env["account.move"].search(
            self._collection_open_invoice_domain() + [("invoice_date_due", "<", today)]
        )
        totals = {}
        for move in moves:
            totals[move.currency_id] = (
                totals.get(move.currency_id, 0.0) + move.amount_residual
            )
        return {
            "date": format_date(env, today),
            "lines": moves._followup_display_lines(self.lang, today),
            "totals": [
                formatLang(env, amount, currency_obj=currency)
                for currency, amount in totals.items()
            ],
        }
