import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..services.formatting import ReminderFormatter
from ..services.interest import legal_amounts
from ..services.levels import next_action_date
from ..services.status import PAUSED
from .account_move import DISPLAYED_INVOICE_FIELDS

_logger = logging.getLogger(__name__)


class FollowupHistory(models.Model):
    """One follow-up action for one customer at one level.

    The record exists before anything leaves the building: the run plans it as
    ``pending`` (or ``to_review`` when a person must decide), then performs it and
    marks it ``done`` in the same transaction that queues the email, stores the letter
    and schedules the activity. A rolled-back batch therefore leaves neither a history
    nor an email, and the next run picks the pending record up again.
    """

    _name = "followup.history"
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
        "followup.level", required=True, index=True, readonly=True
    )
    policy_id = fields.Many2one(related="level_id.policy_id", store=True)
    move_ids = fields.Many2many(
        "account.move",
        "followup_history_account_move_rel",
        "history_id",
        "move_id",
        string="Invoices",
        readonly=True,
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
        readonly=True,
        help="Overdue amount of the invoices reminded, net of the customer's "
        "credits, in company currency.",
    )
    interest_amount = fields.Monetary(string="Late-Payment Interest", readonly=True)
    indemnity_amount = fields.Monetary(string="Recovery Indemnities", readonly=True)
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
    legal_invoice_id = fields.Many2one(
        "account.move", string="Late-Payment Invoice", readonly=True
    )
    postponed_to = fields.Date(readonly=True)
    note = fields.Text(readonly=True)

    credit_amount = fields.Monetary(
        string="Credits Deducted",
        readonly=True,
        help="The customer's unreconciled credit notes and payments, deducted from "
        "the amount claimed.",
    )
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
    sent_body = fields.Html(
        string="Email Sent",
        compute="_compute_sent_body",
        help="The email as it was sent to the customer.",
    )
    preview_subject = fields.Char(compute="_compute_preview")
    preview_body = fields.Html(compute="_compute_preview")

    @api.depends("partner_id", "level_id", "date")
    def _compute_display_name(self):
        for action in self:
            action.display_name = (
                f"{action.partner_id.display_name} - {action.level_id.name} "
                f"({action.date})"
            )

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------
    @api.model
    def _create_from_plan(self, run, plan, origin, rows, formal_level_ids=()):
        """Create the pending (or to-review) actions of one slice of a run's plan.

        One INSERT for the actions and one for their invoices: a run plans tens of
        thousands of actions, and the ORM creates them one by one. The French
        legal amounts of formal notices are computed here from the planning rows,
        so that a reviewer sees them in the preview.

        :param rows: the :class:`InvoiceRow` the plan was made from
        :param formal_level_ids: the levels that are formal notices
        """
        if not plan.actions:
            return self
        company = run.company_id
        currency = company.currency_id
        partner_ids = {action.partner_id for action in plan.actions}
        recipients = self.env["res.partner"]._collection_invoice_contacts(partner_ids)
        legal = self._legal_amounts_of_plan(
            company, run.date, plan, rows, formal_level_ids
        )
        self.flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            INSERT INTO followup_history (
                run_id, company_id, partner_id, recipient_id, level_id, policy_id,
                date, state, origin, amount_claimed, credit_amount, interest_amount,
                indemnity_amount, create_uid, create_date, write_uid, write_date)
            SELECT %(run)s, %(company)s, v.partner_id, v.recipient_id, v.level_id,
                   l.policy_id, %(date)s, v.state, %(origin)s, v.claimed, v.credit,
                   v.interest, v.indemnity, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(partners)s::int[], %(recipients)s::int[],
                          %(levels)s::int[], %(states)s::varchar[],
                          %(claimed)s::numeric[], %(credits)s::numeric[],
                          %(interests)s::numeric[], %(indemnities)s::numeric[])
                   AS v(partner_id, recipient_id, level_id, state, claimed, credit,
                        interest, indemnity)
              JOIN followup_level l ON l.id = v.level_id
            RETURNING id, partner_id, level_id
            """,
            {
                "run": run.id,
                "company": company.id,
                "date": run.date,
                "origin": origin,
                "uid": self.env.uid,
                "now": now,
                "partners": [action.partner_id for action in plan.actions],
                "recipients": [
                    recipients.get(action.partner_id, action.partner_id)
                    for action in plan.actions
                ],
                "levels": [action.level_id for action in plan.actions],
                "states": [
                    "to_review" if action.manual else "pending"
                    for action in plan.actions
                ],
                "claimed": [currency.round(action.claimed) for action in plan.actions],
                "credits": [
                    currency.round(max(action.amount - action.claimed, 0.0))
                    for action in plan.actions
                ],
                "interests": [interest for interest, _indemnity in legal],
                "indemnities": [indemnity for _interest, indemnity in legal],
            },
        )
        # one action per customer and level in a plan
        action_ids = {
            (partner_id, level_id): action_id
            for action_id, partner_id, level_id in self.env.cr.fetchall()
        }
        actions = self.browse(
            [action_ids[action.partner_id, action.level_id] for action in plan.actions]
        )
        actions._link_invoices([action.invoice_ids for action in plan.actions])
        self.env["account.move"]._followup_mark_manual(
            {
                move_id: plan.next_dates.get(move_id)
                for action in plan.actions
                if action.manual
                for move_id in action.invoice_ids
            }
        )
        return actions

    @api.model
    def _legal_amounts_of_plan(self, company, day, plan, rows, formal_level_ids):
        """[(interest, indemnity)] of each planned action: zero but on formal
        notices."""
        rows_by_id = {row.id: row for row in rows}
        rates = None
        amounts = []
        for action in plan.actions:
            if action.level_id not in formal_level_ids:
                amounts.append((0.0, 0.0))
                continue
            if rates is None:
                rates = self.env["followup.interest.rate"]._rates_for_company(company)
            interest, indemnity = legal_amounts(
                [
                    (abs(rows_by_id[move_id].residual), rows_by_id[move_id].due_date)
                    for move_id in action.invoice_ids
                ],
                day,
                rates,
            )
            amounts.append(
                (float(interest), self._indemnity_in(company, indemnity, day))
            )
        return amounts

    @api.model
    def _indemnity_in(self, company, indemnity_eur, day):
        """The recovery indemnity (set in euros by law) in ``company``'s currency."""
        return self.env.ref("base.EUR")._convert(
            float(indemnity_eur), company.currency_id, company, day
        )

    def _link_invoices(self, invoice_ids_per_action):
        """Link each action to its invoices, in one INSERT for the whole batch:
        the ORM would write the many2many one action at a time."""
        history_ids, move_ids = [], []
        for action, invoice_ids in zip(self, invoice_ids_per_action, strict=True):
            history_ids.extend([action.id] * len(invoice_ids))
            move_ids.extend(invoice_ids)
        self.env.cr.execute(
            """
            INSERT INTO followup_history_account_move_rel (history_id, move_id)
            SELECT unnest(%s::int[]), unnest(%s::int[])
            """,
            [history_ids, move_ids],
        )
        self.invalidate_recordset(["move_ids"])
        self.env["account.move"].browse(move_ids).invalidate_recordset(
            ["followup_history_ids"]
        )

    # ------------------------------------------------------------------
    # Performing
    # ------------------------------------------------------------------
    def _perform(self, origin="cron"):
        """Perform these actions, channel by channel, in the current transaction.

        Invoices paid since the action was planned are dropped from it; an action
        left with no open invoice is skipped.
        """
        today = fields.Date.context_today(self)
        # Emails are queued, never sent from inside the batch's transaction.
        records = self.with_context(mail_notify_force_send=False, tracking_disable=True)
        actions = records._drop_closed_invoices()
        if not actions:
            return actions
        actions._compute_legal_amounts(today)
        by_level = defaultdict(records.browse)
        for action in actions:
            by_level[action.level_id] |= action
        for level, level_actions in by_level.items():
            if level.send_email and level.mail_template_id:
                level_actions._send_emails(level.mail_template_id)
            if level.print_letter:
                level_actions._produce_letters()
            if level.create_activity:
                level_actions._schedule_activities(level)
            if level.send_sms:
                level_actions._send_sms(level)
            if level.is_formal_notice:
                level_actions._invoice_legal_amounts()
            if level.propose_agency_handoff:
                level_actions.write({"proposed_handoff": True})
            level_actions._note_on_invoices()
            levels = level.policy_id._engine_levels()[level.policy_id.id]
            moves = level_actions.move_ids
            next_dates = {
                move.id: next_action_date(
                    move.invoice_date_due, levels, level.id, today
                )
                for move in moves
            }
            moves._followup_mark_performed(level, today, next_dates)
        user = self.env.user if origin == "manual" else self.env["res.users"]
        actions.write({"state": "done", "user_id": user.id, "origin": origin})
        return actions

    def _perform_isolated(self, origin="cron"):
        """Perform this action alone in a savepoint; mark it failed if it raises.

        Used after its batch failed, so that one broken action (a template error,
        an invalid address) neither blocks the queue nor rolls back the others.
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._perform(origin=origin)
        except psycopg2.OperationalError:
            raise
        except Exception as error:
            _logger.exception("Follow-up action %s failed", self.id)
            self.env.invalidate_all()
            self.write({"state": "failed", "note": str(error)})

    def _drop_closed_invoices(self):
        """Drop from these actions the invoices paid or paused since planning;
        return the actions left with an open invoice.

        One query finds the few actions concerned: reading every invoice of a
        batch through the ORM would cost more than the check is worth.
        """
        self.env["account.move"].flush_model(["payment_state", "followup_status"])
        self.env.cr.execute(
            """
            SELECT DISTINCT rel.history_id
              FROM followup_history_account_move_rel rel
              JOIN account_move m ON m.id = rel.move_id
             WHERE rel.history_id = ANY(%s)
               AND (m.payment_state NOT IN ('not_paid', 'partial')
                    OR m.followup_status IN %s)
            """,
            [self.ids, PAUSED],
        )
        touched = self.browse([action_id for (action_id,) in self.env.cr.fetchall()])
        emptied = self.browse()
        for action in touched:
            open_moves = action.move_ids.filtered(
                lambda move: (
                    move.payment_state in ("not_paid", "partial")
                    and move.followup_status not in PAUSED
                )
            )
            if not open_moves:
                emptied |= action
                continue
            # Claim no more than what is still open on the remaining invoices.
            still_open = sum(open_moves.mapped("amount_residual_signed"))
            action.write(
                {
                    "move_ids": [fields.Command.set(open_moves.ids)],
                    "amount_claimed": min(action.amount_claimed, still_open),
                }
            )
        emptied.write(
            {
                "state": "skipped",
                "note": _(
                    "The invoices were paid or paused before the reminder went out."
                ),
            }
        )
        return self - emptied

    def _compute_legal_amounts(self, today):
        """Fill the French late-payment amounts of formal notices, on what is
        still claimable of each invoice (its residual less any disputed part)."""
        formal = self.filtered("level_id.is_formal_notice")
        for company, actions in formal.grouped("company_id").items():
            rates = self.env["followup.interest.rate"]._rates_for_company(company)
            for action in actions:
                interest, indemnity = legal_amounts(
                    [
                        (
                            abs(move._followup_claimable_residual()),
                            move.invoice_date_due,
                        )
                        for move in action.move_ids
                    ],
                    today,
                    rates,
                )
                action.write(
                    {
                        "interest_amount": float(interest),
                        "indemnity_amount": self._indemnity_in(
                            company, indemnity, today
                        ),
                    }
                )

    def _send_emails(self, template):
        """Queue one email per action, logged in the customer's chatter.

        The emails are ``mail.mail`` records in the outgoing queue, inserted in this
        transaction: if the batch rolls back, the emails disappear with their
        history. Each one is logged on the customer by a one-line message, the
        email's own, addressed to the reminder's recipient only (the customer's
        followers do not get a copy of every reminder).
        """
        # What the reminders show of their invoices, read in one narrow query: the
        # ORM would read each invoice's hundred columns when first touched.
        self.move_ids.fetch(list(DISPLAYED_INVOICE_FIELDS))
        rendered = template.with_context(followup_render_once=True)._generate_template(
            self.ids, ("subject", "body_html", "email_from", "partner_to", "reply_to")
        )
        note_subtype = self.env.ref("mail.mt_note")
        author = self.env.user.partner_id
        # translated once for the batch, not once per reminder
        note = self.env._(
            "Follow-up email (%(level)s) to %(recipient)s: “%(subject)s”, "
            "%(amount)s claimed on %(count)s invoice(s)."
        )
        emails = []
        for action in self:
            values = rendered[action.id]
            recipient = action.recipient_id or action.partner_id
            email_from = values.get("email_from") or author.email_formatted
            emails.append(
                {
                    "model": "res.partner",
                    "res_id": action.partner_id.id,
                    "record_name": action.partner_id.display_name,
                    "company_id": action.company_id.id,
                    "subtype_id": note_subtype.id,
                    "author_id": author.id,
                    "email_from": email_from,
                    "reply_to": values.get("reply_to") or email_from,
                    "subject": values.get("subject"),
                    "body_html": values.get("body_html") or "",
                    "note": note
                    % {
                        "level": action.level_id.name,
                        "recipient": recipient.display_name,
                        "subject": values.get("subject") or "",
                        "amount": action._followup_format(action.amount_claimed),
                        "count": len(action.move_ids),
                    },
                    "recipient_ids": values.get("partner_ids") or recipient.ids,
                }
            )
        message_ids = self.env["mail.mail"]._followup_queue(emails)
        self._record_channel("sent_email", "mail_message_id", message_ids)

    def _produce_letters(self):
        """Render one letter per action and attach it to its customer's chatter."""
        contents = self._render_letters()
        for action in self:
            content, extension = contents[action.id]
            name = _(
                "Follow-up %(level)s - %(date)s.%(ext)s",
                level=action.level_id.name,
                date=action.date,
                ext=extension,
            )
            attachment = self.env["ir.attachment"].create(
                {
                    "name": name,
                    "raw": content,
                    "res_model": "res.partner",
                    "res_id": action.partner_id.id,
                }
            )
            action.partner_id.message_post(
                body=_("Follow-up letter (%(level)s).", level=action.level_id.name),
                attachment_ids=attachment.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            action.write({"sent_letter": True, "attachment_id": attachment.id})

    def _render_letters(self):
        """{action id: (content, extension)}: the letters, in one PDF engine call."""
        report = self.company_id[:1].followup_letter_report_id or self.env.ref(
            "receivables_followup.action_report_followup_letter"
        )
        return self.env["ir.actions.report"]._render_followup_documents(
            report, self.ids
        )

    def _schedule_activities(self, level):
        deadline = fields.Date.context_today(self) + timedelta(
            days=level.activity_deadline_days
        )
        partner_model = self.env["ir.model"]._get_id("res.partner")
        # The amount goes in the summary, shown wherever the activity is: a note
        # would be sanitised twice per activity for one line of text.
        summary = self.env._("%(summary)s: %(amount)s overdue")
        vals_list = []
        for action in self:
            vals_list.append(
                {
                    "res_model_id": partner_model,
                    "res_id": action.partner_id.id,
                    "activity_type_id": level.activity_type_id.id,
                    "summary": summary
                    % {
                        "summary": level.activity_summary or level.name,
                        "amount": action._followup_format(action.amount_claimed),
                    },
                    "date_deadline": deadline,
                    "user_id": action._activity_user(level).id,
                }
            )
        # quick update: no "activity assigned" email per reminder; the responsible
        # finds the day's calls in their activities, not in a hundred emails.
        activities = (
            self.env["mail.activity"]
            .with_context(mail_activity_quick_update=True)
            .create(vals_list)
        )
        self._record_channel("scheduled_activity", "activity_id", activities.ids)

    def _record_channel(self, flag, link, link_ids):
        """Flag each action as performed on a channel and link it to what the
        channel produced (``link_ids``, in the order of the actions), in one
        UPDATE: the ORM writes one action at a time."""
        if len(link_ids) != len(self):
            raise ValueError("One link per action is expected.")
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                """
                UPDATE followup_history h
                   SET %(flag)s = true, %(link)s = v.link_id,
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM unnest(%(ids)s::int[], %(link_ids)s::int[]) AS v(id, link_id)
                 WHERE h.id = v.id
                """,
                flag=SQL.identifier(flag),
                link=SQL.identifier(link),
                uid=self.env.uid,
                now=fields.Datetime.now(),
                ids=self.ids,
                link_ids=list(link_ids),
            )
        )
        self.invalidate_recordset([flag, link, "write_uid", "write_date"])

    def _activity_user(self, level):
        partner = self.partner_id.with_company(self.company_id)
        if level.activity_assignee == "user":
            return level.activity_user_id
        if level.activity_assignee == "salesperson" and partner.user_id:
            return partner.user_id
        # The scheduled action runs as the superuser: an activity falls to it only
        # when nobody else is named anywhere.
        return (
            partner.collection_user_id
            or partner.user_id
            or level.activity_user_id
            or self.env.user
        )

    def _send_sms(self, level):
        """Queue an SMS where the SMS module is installed and the customer has a
        mobile number; elsewhere the channel is silently not available."""
        if "sms.sms" not in self.env:
            return
        for action in self:
            number = action.recipient_id.mobile or action.partner_id.mobile
            if not number:
                continue
            body = (
                level.with_context(lang=action.partner_id.lang).sms_body or ""
            ).format(
                partner=action.partner_id.name,
                amount=action._followup_format(action.amount_claimed),
                company=action.company_id.name,
            )
            # Queued, sent by the SMS cron after this batch commits: an SMS sent now
            # could not be recalled if the batch rolled back.
            action.partner_id._message_sms(
                body, sms_numbers=[number], put_in_queue=True
            )
            action.write({"sent_sms": True})

    def _invoice_legal_amounts(self):
        """Prepare a draft invoice of the late-payment amounts, when the company
        wants them invoiced."""
        for action in self.filtered("company_id.followup_invoice_legal_amounts"):
            invoice = self.env["account.move"]._followup_create_legal_invoice(
                action.partner_id,
                action.company_id,
                action.interest_amount,
                action.indemnity_amount,
                origin=action.display_name,
            )
            if invoice:
                action.write({"legal_invoice_id": invoice.id})

    def _note_on_invoices(self):
        """One note per reminded invoice in its chatter."""
        text_by_move = {}
        channels_by_level = {}
        # translated once for the batch, not once per reminder
        note = self.env._(
            "Follow-up level %(level)s performed for %(partner)s (%(channels)s)."
        )
        for action in self:
            level = action.level_id
            if level not in channels_by_level:
                channels_by_level[level] = action._channels_label()
            text = note % {
                "level": level.name,
                "partner": action.partner_id.name,
                "channels": channels_by_level[level],
            }
            text_by_move.update(dict.fromkeys(action.move_ids.ids, text))
        self.env["account.move"]._followup_post_notes(text_by_move)

    def _channels_label(self):
        level = self.level_id
        labels = []
        if level.send_email and level.mail_template_id:
            labels.append(_("email"))
        if level.print_letter:
            labels.append(_("letter"))
        if level.create_activity:
            labels.append(_("activity"))
        if level.send_sms:
            labels.append(_("SMS"))
        if level.propose_agency_handoff:
            labels.append(_("agency hand-off proposed"))
        return ", ".join(labels) or _("no channel")

    # ------------------------------------------------------------------
    # Manual review
    # ------------------------------------------------------------------
    def _check_reviewable(self):
        if not self.env.user.has_group("receivables_followup.group_followup_user"):
            raise AccessError(_("Only follow-up users can review reminders."))
        if any(action.state != "to_review" for action in self):
            raise UserError(
                _(
                    "Only reminders waiting for review can be sent, skipped "
                    "or postponed."
                )
            )

    def action_review_send(self):
        self._check_reviewable()
        self.write({"state": "pending"})
        self._perform(origin="manual")
        return True

    def action_review_skip(self):
        """Skip the reminder: the invoices are considered at this level, nothing is
        sent."""
        self._check_reviewable()
        today = fields.Date.context_today(self)
        for action in self:
            levels = action.level_id.policy_id._engine_levels()[action.policy_id.id]
            next_dates = {
                move.id: next_action_date(
                    move.invoice_date_due, levels, action.level_id.id, today
                )
                for move in action.move_ids
            }
            action.move_ids._followup_mark_performed(action.level_id, today, next_dates)
        self.write(
            {"state": "skipped", "user_id": self.env.user.id, "origin": "manual"}
        )
        return True

    def action_review_postpone(self):
        self._check_reviewable()
        return {
            "type": "ir.actions.act_window",
            "name": _("Postpone Reminder"),
            "res_model": "followup.review.postpone",
            "view_mode": "form",
            "target": "new",
            "context": {"default_history_ids": self.ids},
        }

    # ------------------------------------------------------------------
    # Rendering helpers used by the templates and the letter
    # ------------------------------------------------------------------
    @api.model
    def mail_allowed_qweb_expressions(self):
        # The reminder templates' sender, recipient, language and subject are plain
        # field paths: Odoo renders those without evaluating code, which is both
        # safe for users who are not template editors and fast for a whole run.
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.company_id.name",
            "object.sender_email",
            "object.recipient_id.id",
            "object.recipient_id.name",
            "object.recipient_lang",
        )

    def _compute_responsible_user_id(self):
        # The responsible is company dependent: read in one environment per
        # company for the whole batch, not one environment per reminder.
        for company, actions in self.grouped("company_id").items():
            company_env = actions.partner_id.with_company(company).env
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

    @api.depends("mail_message_id")
    def _compute_sent_body(self):
        # sudo: follow-up users may not read mail.mail; they see the body of the
        # reminders they may see, sanitised by this field.
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search_read(
                [("mail_message_id", "in", self.mail_message_id.ids)],
                ["mail_message_id", "body_html"],
            )
        )
        body_by_message = {
            mail["mail_message_id"][0]: mail["body_html"] for mail in mails
        }
        for action in self:
            action.sent_body = body_by_message.get(action.mail_message_id.id, False)

    @api.depends("state", "level_id")
    def _compute_preview(self):
        for action in self:
            template = action.level_id.mail_template_id
            if not (action.id and template and action.level_id.send_email):
                action.preview_subject = False
                action.preview_body = False
                continue
            rendered = template._generate_template(
                [action.id], ("subject", "body_html")
            )
            action.preview_subject = rendered[action.id].get("subject")
            action.preview_body = rendered[action.id].get("body_html")

    def _followup_lang(self):
        return self.recipient_id.lang or self.partner_id.lang or self.env.lang

    def _followup_format(self, amount, currency=None):
        formatter = ReminderFormatter.for_lang(self.env, self._followup_lang())
        return formatter.amount(amount, currency or self.currency_id)

    def _followup_invoice_lines(self):
        """The reminded invoices as display values: amounts in invoice currency."""
        self.ensure_one()
        return self.move_ids._followup_display_lines(self._followup_lang(), self.date)

    def _followup_credit_text(self):
        self.ensure_one()
        if not self.credit_amount:
            return ""
        return _(
            "Your unreconciled credits of %(credit)s have been deducted "
            "from the amount due.",
            credit=self._followup_format(self.credit_amount),
        )

    def _followup_sender_email(self):
        self.ensure_one()
        return (
            self.responsible_user_id.email_formatted or self.company_id.email_formatted
        )

    def _followup_signature(self):
        self.ensure_one()
        responsible = self.responsible_user_id
        if responsible:
            return f"{responsible.name}, {self.company_id.name}"
        return self.company_id.name
