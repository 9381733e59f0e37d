from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date, formatLang

from ..services import dispute as dispute_rules
from ..services import status as followup_status
from ..services.formatting import ReminderFormatter
from ..services.levels import days_overdue

#: days ahead a customer may promise to pay without a manager's approval, when the
#: policy does not say
DEFAULT_PROMISE_MAX_DAYS = 30

FOLLOWUP_STATUSES = [
    (followup_status.NOT_DUE, "Not Due"),
    (followup_status.IN_FOLLOWUP, "In Follow-up"),
    (followup_status.MANUAL, "Needs Manual Action"),
    (followup_status.PAUSED_DISPUTE, "Paused: Disputed"),
    (followup_status.PAUSED_PROMISE, "Paused: Promise to Pay"),
    (followup_status.PAUSED_ANSWERED, "Paused: Customer Answered"),
    (followup_status.EXCLUDED, "Excluded"),
    (followup_status.AT_AGENCY, "At Agency"),
    (followup_status.PAID, "Paid"),
]


#: follow-up fields that only the engine and the follow-up's own wizards change:
#: writable directly, a billing user could stop an invoice's follow-up or jump
#: its levels without a trace
ENGINE_FIELDS = frozenset(
    {
        "followup_level_id",
        "followup_last_date",
        "followup_next_date",
        "followup_resume_date",
        "followup_postponed_to",
        "followup_excluded",
        "followup_exclusion_reason",
        "followup_promise_date",
        "followup_answered_until",
        "followup_manual_pending",
        "followup_at_agency",
    }
)


def _date_texts(days):
    """Dates (or None) as an array parameter of the engine's UPDATE statements."""
    return [str(day) if day else None for day in days]


class AccountMove(models.Model):
    _inherit = "account.move"

    followup_level_id = fields.Many2one(
        "followup.level",
        string="Follow-up Level",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The last follow-up level performed for this invoice.",
    )
    followup_last_date = fields.Date(string="Last Follow-up", readonly=True, copy=False)
    followup_next_date = fields.Date(
        string="Next Follow-up", readonly=True, copy=False, index="btree_not_null"
    )
    followup_resume_date = fields.Date(
        readonly=True,
        copy=False,
        help="Date a pause ended: the next level counts its delay from here.",
    )
    followup_postponed_to = fields.Date(
        string="Follow-up Postponed To",
        readonly=True,
        copy=False,
        help="A person put the next level off until this date.",
    )
    followup_status = fields.Selection(
        FOLLOWUP_STATUSES,
        compute="_compute_followup_status",
        store=True,
        index="btree_not_null",
        copy=False,
    )
    followup_excluded = fields.Boolean(
        string="Excluded from Follow-up", copy=False, tracking=True
    )
    followup_exclusion_reason = fields.Char(copy=False, tracking=True)
    followup_promise_date = fields.Date(
        string="Promise to Pay", copy=False, tracking=True
    )
    followup_answered_until = fields.Date(
        string="Customer Answered, Held Until",
        readonly=True,
        copy=False,
        help="The customer answered a reminder: the escalation waits until this "
        "date, or until the responsible lifts the hold.",
    )
    followup_manual_pending = fields.Boolean(readonly=True, copy=False)
    followup_at_agency = fields.Boolean(
        readonly=True,
        copy=False,
        help="Set while the invoice is handed off to a collection agency.",
    )
    followup_agency_case_count = fields.Integer(
        string="Agency Cases", compute="_compute_followup_agency_case_count"
    )
    followup_history_line_ids = fields.One2many(
        "followup.history.line",
        "move_id",
        string="Follow-up Action Lines",
        readonly=True,
        copy=False,
    )
    followup_history_ids = fields.Many2many(
        "followup.history",
        string="Follow-up History",
        compute="_compute_followup_history_ids",
        search="_search_followup_history_ids",
    )
    followup_dispute_line_ids = fields.One2many(
        "followup.dispute.line", "move_id", string="Dispute Lines", readonly=True
    )
    followup_dispute_paused = fields.Boolean(
        compute="_compute_followup_dispute",
        store=True,
        help="An open dispute pauses the invoice's follow-up.",
    )
    followup_disputed_amount = fields.Monetary(
        compute="_compute_followup_dispute",
        store=True,
        currency_field="currency_id",
    )
    followup_dispute_count = fields.Integer(compute="_compute_followup_dispute_count")
    followup_amount_due = fields.Monetary(
        string="Amount Due (Invoice Currency)",
        related="amount_residual",
        currency_field="currency_id",
        # never summed across invoices: their currencies differ
        aggregator=None,
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                self._followup_check_engine_fields(
                    {key: value for key, value in vals.items() if value}
                )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._followup_check_engine_fields(vals)
        return super().write(vals)

    def _followup_check_engine_fields(self, vals):
        """Refuse a direct change of the follow-up's own fields: they change
        through the follow-up wizards (exclusion, promise to pay), the review
        buttons, the disputes and the run, which check who asks and log why."""
        touched = ENGINE_FIELDS.intersection(vals)
        if touched:
            labels = ", ".join(
                sorted(
                    self._fields[name].get_description(self.env)["string"]
                    for name in touched
                )
            )
            raise AccessError(
                _(
                    "%(fields)s change through the follow-up's own actions (exclude, "
                    "promise to pay, review, dispute), not directly.",
                    fields=labels,
                )
            )

    @api.depends(
        "move_type",
        "state",
        "payment_state",
        "invoice_date_due",
        "followup_excluded",
        "followup_at_agency",
        "followup_dispute_paused",
        "followup_promise_date",
        "followup_answered_until",
        "followup_manual_pending",
    )
    def _compute_followup_status(self):
        days = self.company_id._followup_days()
        for move in self:
            today = days.get(move.company_id) or fields.Date.context_today(move)
            is_invoice = move.move_type in ("out_invoice", "out_receipt")
            if not is_invoice or move.state != "posted":
                move.followup_status = False
                continue
            move.followup_status = followup_status.invoice_status(
                is_open=move.payment_state in ("not_paid", "partial"),
                due_date=move.invoice_date_due,
                today=today,
                excluded=move.followup_excluded,
                at_agency=move.followup_at_agency,
                disputed=move.followup_dispute_paused,
                promise_date=move.followup_promise_date,
                answered_until=move.followup_answered_until,
                manual_pending=move.followup_manual_pending,
            )

    @api.depends(
        "followup_dispute_line_ids.amount",
        "followup_dispute_line_ids.dispute_id.state",
        "amount_residual",
        "company_id.followup_partial_dispute_escalates",
    )
    def _compute_followup_dispute(self):
        min_shares = {}
        for move in self:
            active_lines = move.followup_dispute_line_ids.filtered(
                lambda line: line.dispute_id.state in ("open", "under_review")
            )
            disputed = sum(active_lines.mapped("amount"))
            move.followup_disputed_amount = disputed
            if not active_lines:
                move.followup_dispute_paused = False
                continue
            key = (move.commercial_partner_id, move.company_id)
            if key not in min_shares:
                policy = move.commercial_partner_id._collection_policy(move.company_id)
                min_shares[key] = policy.dispute_min_share
            move.followup_dispute_paused = dispute_rules.pauses_invoice(
                disputed,
                move.amount_residual,
                move.company_id.followup_partial_dispute_escalates,
                min_shares[key],
                move.currency_id.rounding,
            )

    @api.depends("followup_history_line_ids.history_id")
    def _compute_followup_history_ids(self):
        for move in self:
            move.followup_history_ids = move.followup_history_line_ids.history_id

    def _search_followup_history_ids(self, operator, value):
        return [("followup_history_line_ids.history_id", operator, value)]

    def _compute_followup_dispute_count(self):
        counts = dict(
            self.env["followup.dispute.line"]._read_group(
                [("move_id", "in", self.ids)],
                ["move_id"],
                ["dispute_id:count_distinct"],
            )
        )
        for move in self:
            move.followup_dispute_count = counts.get(move, 0)

    def _followup_refresh_statuses(self, company_ids, today):
        """Move invoices that fell due since their status was stored to 'in follow-up'.

        The status depends on today's date; the daily run refreshes it in one
        statement rather than recomputing every open invoice.
        """
        self.env.cr.execute(
            """
            UPDATE account_move
               SET followup_status = %s
             WHERE followup_status = %s
               AND company_id = ANY(%s)
               AND invoice_date_due < %s
            RETURNING id
            """,
            [
                followup_status.IN_FOLLOWUP,
                followup_status.NOT_DUE,
                list(company_ids),
                today,
            ],
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.browse(ids).invalidate_recordset(["followup_status"])
        # Promises whose date has passed are broken: the invoice resumes.
        self.env["followup.promise"].sudo()._close(company_ids, today)
        broken = self.search(
            [
                ("company_id", "in", list(company_ids)),
                ("followup_promise_date", "<", today),
                ("followup_status", "=", followup_status.PAUSED_PROMISE),
            ]
        )
        for move in broken:
            move._followup_log_promise(
                _("The promise to pay was not kept: the follow-up resumes."),
                move.followup_promise_date,
                False,
            )
        broken.with_context(tracking_disable=True).write(
            {"followup_promise_date": False, "followup_resume_date": today}
        )
        self._followup_end_expired_holds(company_ids, today)
        return len(ids)

    def _followup_end_expired_holds(self, company_ids, today):
        """Resume the invoices whose customer's answer was held long enough,
        with one note per customer."""
        expired = self.search(
            [
                ("company_id", "in", list(company_ids)),
                ("followup_answered_until", "<", today),
            ]
        )
        expired._followup_end_holds(
            self.env._(
                "The hold for the customer's answer ended: the follow-up of "
                "%(invoices)s resumes."
            ),
            today,
        )

    def _followup_end_holds(self, note, today=None, **values):
        """End the holds of these invoices, whose customer answered: one note
        per customer (``note`` with its ``invoices`` and ``values``), its
        "customer answered" activity closed, the invoices resumed on ``today``
        (by default their company's follow-up day)."""
        for (partner, company), moves in self.grouped(
            lambda move: (move.commercial_partner_id, move.company_id)
        ).items():
            partner.with_company(company)._followup_log_hold_end(
                note % {"invoices": ", ".join(moves.mapped("name")), **values}
            )
            # sudo: the engine's fields change through the hold's end only
            moves.sudo().with_context(tracking_disable=True).write(
                {
                    "followup_answered_until": False,
                    "followup_resume_date": today or company._followup_today(),
                }
            )

    def _followup_company_guard(self, alias="m"):
        """SQL condition limiting the engine's raw writes to the invoices of the
        acting user's companies.

        The scheduled run (the superuser) works for every company; a person,
        even when the engine writes on their behalf with sudo, only ever changes
        invoices of the companies they belong to.
        """
        if self.env.uid == SUPERUSER_ID:
            return SQL("TRUE")
        return SQL(
            "%s.company_id = ANY(%s)",
            SQL.identifier(alias),
            list(self.env.user._get_company_ids()),
        )

    # ------------------------------------------------------------------
    # Engine writes: set-based SQL, because account.move.write() costs far too
    # much for a hundred thousand invoices and these columns trigger nothing but
    # the follow-up status, which is written alongside.
    # ------------------------------------------------------------------
    def _followup_write_next_dates(self, next_dates):
        """Store {move_id: date or None} as the invoices' next follow-up dates."""
        if not next_dates:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_next_date = v.next_date::date
                  FROM (SELECT unnest(%s::int[]) AS id,
                               unnest(%s::text[]) AS next_date) v
                 WHERE m.id = v.id
                   AND m.followup_next_date IS DISTINCT FROM v.next_date::date
                   AND %s
                """,
                list(next_dates),
                _date_texts(next_dates.values()),
                self._followup_company_guard(),
            )
        )
        self.browse(list(next_dates)).invalidate_recordset(["followup_next_date"])

    @api.model
    def _followup_mark_manual(self, next_dates):
        """Flag the invoices of {invoice id: next date} as waiting for a person's
        decision on the level due at that date."""
        if not next_dates:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_manual_pending = true,
                       followup_next_date = v.next_date::date,
                       followup_status = CASE WHEN m.followup_status IN %s
                                              THEN %s ELSE m.followup_status END
                  FROM (SELECT unnest(%s::int[]) AS id,
                               unnest(%s::text[]) AS next_date) v
                 WHERE m.id = v.id
                   AND %s
                """,
                followup_status.ESCALATING,
                followup_status.MANUAL,
                list(next_dates),
                _date_texts(next_dates.values()),
                self._followup_company_guard(),
            )
        )
        self.browse(list(next_dates)).invalidate_recordset(
            ["followup_manual_pending", "followup_status", "followup_next_date"]
        )

    def _followup_mark_performed(self, level, day, next_dates):
        """Record that ``level`` was performed on ``day`` for these invoices."""
        self._followup_mark_levels(dict.fromkeys(self.ids, level.id), day, next_dates)

    @api.model
    def _followup_mark_levels(self, levels, day, next_dates):
        """Record the levels performed on ``day``.

        :param dict levels: {invoice id: level id it reached}
        :param dict next_dates: {invoice id: date of its next level, or None}
        """
        if not levels:
            return
        move_ids = list(levels)
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_level_id = v.level_id,
                       followup_last_date = %s,
                       followup_resume_date = NULL,
                       followup_postponed_to = NULL,
                       followup_manual_pending = false,
                       followup_status = CASE WHEN m.followup_status = %s
                                              THEN %s ELSE m.followup_status END,
                       followup_next_date = v.next_date::date
                  FROM (SELECT unnest(%s::int[]) AS id,
                               unnest(%s::int[]) AS level_id,
                               unnest(%s::text[]) AS next_date) v
                 WHERE m.id = v.id
                   AND %s
                """,
                day,
                followup_status.MANUAL,
                followup_status.IN_FOLLOWUP,
                move_ids,
                [levels[move_id] or None for move_id in move_ids],
                _date_texts(next_dates.get(move_id) for move_id in move_ids),
                self._followup_company_guard(),
            )
        )
        self.browse(move_ids).invalidate_recordset(
            [
                "followup_level_id",
                "followup_last_date",
                "followup_resume_date",
                "followup_postponed_to",
                "followup_manual_pending",
                "followup_status",
                "followup_next_date",
            ]
        )

    def _followup_postpone(self, until):
        """Put the invoices' next level off until ``until``."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_postponed_to = %s, followup_next_date = %s
                 WHERE m.id = ANY(%s)
                   AND %s
                """,
                until,
                until,
                self.ids,
                self._followup_company_guard(),
            )
        )
        self.invalidate_recordset(["followup_postponed_to", "followup_next_date"])

    def _followup_release_manual(self):
        """A person decided (postpone): the invoices wait no longer."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_manual_pending = false,
                       followup_status = CASE WHEN m.followup_status = %s
                                              THEN %s ELSE m.followup_status END
                 WHERE m.id = ANY(%s)
                   AND %s
                """,
                followup_status.MANUAL,
                followup_status.IN_FOLLOWUP,
                self.ids,
                self._followup_company_guard(),
            )
        )
        self.invalidate_recordset(["followup_manual_pending", "followup_status"])

    # ------------------------------------------------------------------
    # Engine helpers used by the follow-up actions
    # ------------------------------------------------------------------
    def _followup_display_lines(self, lang, on_date):
        """These invoices as reminder lines, in ``lang``, days late on ``on_date``.

        Amounts are in each invoice's own currency, as the customer knows them.
        """
        env = self.with_context(lang=lang).env
        formatter = ReminderFormatter.for_lang(env, lang)
        status_labels = dict(
            self._fields["followup_status"]._description_selection(env)
        )
        return [
            {
                "id": move.id,
                "name": move.name,
                "invoice_date": formatter.date(move.invoice_date),
                "due_date": formatter.date(move.invoice_date_due),
                "days_overdue": days_overdue(move.invoice_date_due, on_date),
                "payment_reference": move.payment_reference or move.name,
                "level": move.followup_level_id.with_env(env).name or "",
                "status": status_labels.get(move.followup_status, ""),
                "amount_due": formatter.amount(move.amount_residual, move.currency_id),
            }
            for move in self.sorted(lambda m: (m.invoice_date_due, m.name))
        ]

    def _followup_company_rate(self):
        """Company-currency units per unit of the invoice's currency, at the
        invoice's own booking rate."""
        self.ensure_one()
        if not self.amount_residual:
            return 1.0
        return self.amount_residual_signed / self.amount_residual

    def _followup_change_since(self, open_amount):
        """What became of this invoice since a reminder showed ``open_amount``
        open on it (invoice currency), as a text, or "" when nothing did."""
        self.ensure_one()
        if self.state != "posted" or self.payment_state not in ("not_paid", "partial"):
            return _("paid or reversed")
        status = self.followup_status
        if status == followup_status.PAUSED_DISPUTE:
            return _("disputed")
        if status == followup_status.PAUSED_PROMISE:
            return _(
                "promised to pay by %(date)s",
                date=format_date(self.env, self.followup_promise_date),
            )
        if status == followup_status.PAUSED_ANSWERED:
            return _(
                "the customer answered: on hold until %(date)s",
                date=format_date(self.env, self.followup_answered_until),
            )
        if status == followup_status.EXCLUDED:
            return _(
                "excluded from follow-up (%(reason)s)",
                reason=self.followup_exclusion_reason or "",
            )
        if status == followup_status.AT_AGENCY:
            return _("handed to a collection agency")
        open_now = self.amount_residual - self.followup_disputed_amount
        if self.currency_id.compare_amounts(open_now, open_amount) < 0:
            return _(
                "paid in part: %(amount)s still open",
                amount=formatLang(self.env, open_now, currency_obj=self.currency_id),
            )
        return ""

    @api.model
    def _followup_post_notes(self, text_by_move):
        """Post each text (plain, escaped here) as a note in its invoice's chatter.

        One INSERT for all the invoices: a run notes hundreds of thousands of
        invoices, and mail.message.create() costs a reply-to lookup and two HTML
        sanitisations per message for a body that is fixed, already escaped text.

        :param dict text_by_move: {invoice id: text}
        """
        if not text_by_move:
            return
        author = self.env.user.partner_id
        # the invoices of one reminder share their note: escaped once
        bodies = {
            text: str(Markup("<p>%s</p>") % text) for text in set(text_by_move.values())
        }
        self.env["mail.message"].flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            INSERT INTO mail_message (
                model, res_id, record_company_id, body, message_type, subtype_id,
                author_id, email_from, is_internal, date,
                create_uid, create_date, write_uid, write_date)
            SELECT 'account.move', m.id, m.company_id, v.body, 'notification',
                   %(subtype)s, %(author)s, %(email_from)s, false, %(now)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(ids)s::int[], %(bodies)s::text[]) AS v(id, body)
              JOIN account_move m ON m.id = v.id
            """,
            {
                "ids": list(text_by_move),
                "bodies": [bodies[text] for text in text_by_move.values()],
                "subtype": self.env.ref("mail.mt_note").id,
                "author": author.id,
                "email_from": author.email_formatted or None,
                "now": now,
                "uid": self.env.uid,
            },
        )
        self.browse(list(text_by_move)).invalidate_recordset(["message_ids"])

    @api.model
    def _followup_create_legal_invoice(
        self, partner, company, currency, interest, indemnity, origin=None
    ):
        """Draft invoice to ``partner`` of late-payment amounts in ``currency``
        (the currency of the invoices they were computed on), untaxed: they are
        damages, outside the VAT scope."""
        lines = []
        if interest:
            lines.append(
                fields.Command.create(
                    {
                        "name": _("Late-payment interest"),
                        "price_unit": interest,
                        "quantity": 1,
                        "tax_ids": [fields.Command.clear()],
                    }
                )
            )
        if indemnity:
            lines.append(
                fields.Command.create(
                    {
                        "name": _("Fixed recovery indemnity (EUR 40 per invoice)"),
                        "price_unit": indemnity,
                        "quantity": 1,
                        "tax_ids": [fields.Command.clear()],
                    }
                )
            )
        if not lines:
            return self.browse()
        return self.with_company(company).create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": currency.id,
                "invoice_origin": origin,
                "invoice_line_ids": lines,
            }
        )

    # ------------------------------------------------------------------
    # Disputes
    # ------------------------------------------------------------------
    def action_open_dispute(self):
        """Open a new dispute prefilled with these invoices' residual amounts."""
        partner = self.commercial_partner_id
        if len(partner) != 1:
            raise UserError(_("Dispute the invoices of one customer at a time."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Open Dispute"),
            "res_model": "followup.dispute",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_partner_id": partner.id,
                "default_company_id": self[:1].company_id.id,
                "default_line_ids": [
                    fields.Command.create(
                        {
                            "move_id": move.id,
                            "amount": move.amount_residual
                            - move.followup_disputed_amount,
                        }
                    )
                    for move in self
                ],
            },
        }

    def action_open_followup_disputes(self):
        self.ensure_one()
        disputes = self.followup_dispute_line_ids.dispute_id
        return {
            "type": "ir.actions.act_window",
            "name": _("Disputes"),
            "res_model": "followup.dispute",
            "view_mode": "list,form",
            "domain": [("id", "in", disputes.ids)],
        }

    # ------------------------------------------------------------------
    # Collection agencies
    # ------------------------------------------------------------------
    def action_open_handoff_wizard(self):
        return self.env["followup.handoff.wizard"]._open_for(self)

    def action_open_agency_cases(self):
        cases = (
            self.env["followup.agency.case.line"]
            .search([("move_id", "in", self.ids)])
            .case_id
        )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_case"
        )
        action["domain"] = [("id", "in", cases.ids)]
        return action

    def _compute_followup_agency_case_count(self):
        counts = dict(
            self.env["followup.agency.case.line"]._read_group(
                [("move_id", "in", self.ids)], ["move_id"], ["__count"]
            )
        )
        for move in self:
            move.followup_agency_case_count = counts.get(move, 0)

    def _followup_counterpart_types(self):
        """Move types reconciled with this invoice's receivable (``entry`` for
        a payment, ``out_refund`` for a credit note)."""
        self.ensure_one()
        receivable = self.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        return set(
            receivable.matched_credit_ids.credit_move_id.move_id.mapped("move_type")
        )

    def _followup_promise_horizon(self):
        """The latest date this invoice's customer may promise to pay by without a
        follow-up manager's approval (its policy's horizon from today)."""
        self.ensure_one()
        policy = self.commercial_partner_id._collection_policy(self.company_id)
        return self.company_id._followup_today() + timedelta(
            days=policy.promise_max_days or DEFAULT_PROMISE_MAX_DAYS
        )

    def _followup_register_promise(self, promise_date, author=None, user=None):
        """Record the customer's promise to pay these invoices by ``promise_date``.

        Each invoice is paused until that date (status 'paused: promise to pay'),
        and the customer's follow-up responsible gets one activity per invoice to
        check, on that day, that the payment came: a new promise replaces the
        previous one and closes its activity. The chatter logs the promised date
        as a tracked value, which every reader sees in their own language.

        Called from the customer portal (sudo, the customer as ``author``) and
        from the follow-up wizard (a follow-up user, the customer as ``author``).

        :param date promise_date: between today and the policy's horizon; later
            only when a follow-up manager records it
        :param author: res.partner who made the promise (by default, the user
            recording it)
        :param user: res.users recording it, whose rights decide on a promise
            beyond the horizon (by default the environment's: the portal passes
            its visitor, as it works on invoices as the superuser)
        :raise UserError: closed or disputed invoice, a date in the past, or beyond
            the horizon; nothing is written then
        """
        user = user or self.env.user
        is_manager = user.has_group("receivables_followup.group_followup_manager")
        author = author or user.partner_id
        for move in self:
            move._followup_check_promise(promise_date, is_manager)
        check_type = self.env.ref(
            "receivables_followup.mail_activity_type_promise_check"
        )
        # sudo: the promise and its activities are the engine's bookkeeping, open
        # to the customer and to follow-up users through this method only.
        for company, moves in self.sudo().grouped("company_id").items():
            self.env["followup.promise"].sudo()._record(
                moves, promise_date, company._followup_today()
            )
        for move in self.sudo():
            previous = move.followup_promise_date
            move.activity_ids.filtered(
                lambda activity: activity.activity_type_id == check_type
            ).action_feedback(feedback=_("Replaced by a new promise to pay."))
            move.with_context(tracking_disable=True).write(
                {"followup_promise_date": promise_date}
            )
            move._followup_log_promise(
                _("Promise to pay: the follow-up of this invoice waits until then."),
                previous,
                promise_date,
                author,
            )
            responsible = self.env["followup.dispute"]._default_responsible(
                move.commercial_partner_id, move
            )
            move.activity_schedule(
                "receivables_followup.mail_activity_type_promise_check",
                date_deadline=promise_date,
                user_id=responsible.id,
                summary=_(
                    "Check the payment promised for %(date)s",
                    date=format_date(
                        self.env(context={"lang": responsible.lang}), promise_date
                    ),
                ),
            )

    def _followup_check_promise(self, promise_date, is_manager):
        self.ensure_one()
        if self.state != "posted" or self.payment_state not in ("not_paid", "partial"):
            raise UserError(
                _(
                    "%(invoice)s is already paid: there is nothing to promise.",
                    invoice=self.name,
                )
            )
        if self.followup_dispute_paused:
            raise UserError(
                _(
                    "%(invoice)s is disputed: its follow-up is already paused.",
                    invoice=self.name,
                )
            )
        if promise_date < self.company_id._followup_today():
            raise UserError(_("The promised payment date cannot be in the past."))
        horizon = self._followup_promise_horizon()
        if promise_date > horizon and not is_manager:
            raise UserError(
                _(
                    "A promise to pay after %(date)s needs the approval of a "
                    "follow-up manager.",
                    date=format_date(self.env, horizon),
                )
            )

    def _followup_log_promise(self, body, old_date, new_date, author=None):
        """Log ``body`` with the promised date's change as a tracked value."""
        self.ensure_one()
        tracking = self.env["mail.tracking.value"]._create_tracking_values(
            old_date,
            new_date,
            "followup_promise_date",
            {"type": "date", "string": self._fields["followup_promise_date"].string},
            self,
        )
        self._message_log(
            body=body,
            author_id=author.id if author else None,
            tracking_value_ids=[fields.Command.create(tracking)],
        )
