from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..services import dispute as dispute_rules
from ..services import status as followup_status

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


class AccountMove(models.Model):
    """Invoices under follow-up: their follow-up fields and statuses, the
    guard on the engine's own fields, the daily status refresh and the ends
    of holds, and the buttons to disputes and agency cases. The engine's
    writes and helpers and the promises to pay are mixins beside this file
    (``followup_move_engine.py``, ``followup_move_promise.py``)."""

    _name = "account.move"
    _inherit = ["account.move", "followup.move.engine", "followup.move.promise"]

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
