from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..services import dispute as rules

DEFAULT_DEADLINE_DAYS = 14

#: what only the workflow methods write, whatever the context: a dispute's state
#: and outcome decide whether its invoices escalate and what the customer is told
WORKFLOW_FIELDS = frozenset(
    {
        "state",
        "resolution",
        "rejection_reason",
        "credit_note_ids",
        "date_opened",
        "date_closed",
        "origin",
    }
)


def _sets_workflow(vals):
    """Whether creation values go beyond a newly opened internal dispute."""
    return (
        vals.get("state", rules.OPEN) != rules.OPEN
        or vals.get("origin", "internal") != "internal"
        or any(
            vals.get(name)
            for name in ("resolution", "rejection_reason", "credit_note_ids")
        )
        or vals.get("date_closed")
    )


class FollowupDispute(models.Model):
    """A customer's dispute of one or more invoices.

    While a dispute is open or under review, its invoices do not escalate (see
    ``account.move._compute_followup_dispute``). Other parts of the addon open a
    dispute with :meth:`_open_dispute`; every change of state goes through
    :meth:`_change_state`, which knows the allowed source states. The workflow
    behind the buttons (transitions, resolution, credit notes) is a mixin beside
    this file (``followup_dispute_workflow.py``).
    """

    _name = "followup.dispute"
    _description = "Invoice Dispute"
    _inherit = [
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "followup.dispute.workflow",
    ]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, copy=False, readonly=True, default="/"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        domain="[('is_company', '=', True)]",
    )
    line_ids = fields.One2many(
        "followup.dispute.line", "dispute_id", string="Disputed Invoices", copy=False
    )
    invoice_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        compute="_compute_invoice_ids",
        search="_search_invoice_ids",
    )
    reason_id = fields.Many2one("followup.dispute.reason", required=True, tracking=True)
    description = fields.Html()
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        tracking=True,
        default=lambda self: self.env.user,
    )
    date_deadline = fields.Date(
        string="Deadline",
        tracking=True,
        default=lambda self: (
            self.env.company._followup_today() + timedelta(days=DEFAULT_DEADLINE_DAYS)
        ),
    )
    date_opened = fields.Date(
        string="Opened On",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: self.env.company._followup_today(),
    )
    age_days = fields.Integer(
        string="Age (Days)",
        compute="_compute_age_days",
        help="Days since the dispute was opened, until it was closed.",
    )
    state = fields.Selection(
        [
            (rules.OPEN, "Open"),
            (rules.UNDER_REVIEW, "Under Review"),
            (rules.RESOLVED, "Resolved"),
            (rules.CANCELLED, "Cancelled"),
        ],
        default=rules.OPEN,
        required=True,
        tracking=True,
        index=True,
        readonly=True,
        copy=False,
    )
    resolution = fields.Selection(
        [
            (rules.CREDIT_NOTE, "Credit Note"),
            (rules.CORRECTION, "Correction"),
            (rules.REJECTED, "Rejected"),
        ],
        tracking=True,
        copy=False,
        readonly=True,
    )
    rejection_reason = fields.Text(copy=False, readonly=True)
    credit_note_ids = fields.Many2many(
        "account.move",
        "followup_dispute_credit_note_rel",
        "dispute_id",
        "move_id",
        string="Credit Notes",
        copy=False,
        readonly=True,
    )
    credit_note_count = fields.Integer(compute="_compute_credit_note_count")
    origin = fields.Selection(
        [("internal", "Internal"), ("portal", "Customer Portal"), ("agency", "Agency")],
        default="internal",
        readonly=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_disputed = fields.Monetary(
        string="Disputed Amount (Company Currency)",
        compute="_compute_amount_disputed",
        store=True,
        currency_field="currency_id",
    )
    dispute_currency_id = fields.Many2one(
        "res.currency",
        string="Invoice Currency",
        compute="_compute_amount_disputed_currency",
        store=True,
        help="The currency of the disputed invoices (the company's when they are "
        "in several).",
    )
    amount_disputed_currency = fields.Monetary(
        string="Disputed Amount",
        compute="_compute_amount_disputed_currency",
        store=True,
        currency_field="dispute_currency_id",
        help="What the customer disputes, in the currency of its invoices.",
    )
    date_closed = fields.Date(readonly=True, copy=False)

    @api.depends("line_ids.amount_company")
    def _compute_amount_disputed(self):
        for dispute in self:
            dispute.amount_disputed = sum(dispute.line_ids.mapped("amount_company"))

    @api.depends("line_ids.amount", "line_ids.currency_id", "amount_disputed")
    def _compute_amount_disputed_currency(self):
        for dispute in self:
            currencies = dispute.line_ids.currency_id
            if len(currencies) == 1:
                dispute.dispute_currency_id = currencies
                dispute.amount_disputed_currency = sum(
                    dispute.line_ids.mapped("amount")
                )
            else:
                dispute.dispute_currency_id = dispute.company_id.currency_id
                dispute.amount_disputed_currency = dispute.amount_disputed

    @api.depends("line_ids.move_id")
    def _compute_invoice_ids(self):
        for dispute in self:
            dispute.invoice_ids = dispute.line_ids.move_id

    def _search_invoice_ids(self, operator, value):
        return [("line_ids.move_id", operator, value)]

    @api.depends("credit_note_ids")
    def _compute_credit_note_count(self):
        for dispute in self:
            dispute.credit_note_count = len(dispute.credit_note_ids)

    @api.depends("date_opened", "date_closed")
    @api.depends_context("date")
    def _compute_age_days(self):
        today = fields.Date.context_today(self)
        for dispute in self:
            end = dispute.date_closed or today
            dispute.age_days = (
                (end - dispute.date_opened).days if dispute.date_opened else 0
            )

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for dispute in self:
            dispute.access_url = f"/my/disputes/{dispute.id}"

    @api.constrains("partner_id")
    def _check_partner_commercial(self):
        for dispute in self:
            if dispute.partner_id != dispute.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "A dispute belongs to the customer's commercial entity "
                        "(%(entity)s), not to one of its contacts.",
                        entity=dispute.partner_id.commercial_partner_id.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not self.env.su and _sets_workflow(vals):
                raise UserError(
                    self.env._("A dispute opens as open; its buttons move it on.")
                )
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("followup.dispute")
        disputes = super().create(vals_list)
        for dispute in disputes:
            if not dispute.line_ids:
                raise ValidationError(
                    self.env._("A dispute needs at least one invoice.")
                )
        disputes._schedule_review_activity()
        disputes._post_opening_note()
        return disputes

    def write(self, vals):
        if not self.env.su and WORKFLOW_FIELDS.intersection(vals):
            raise UserError(
                self.env._("Use the dispute's buttons to change its state.")
            )
        return super().write(vals)

    def unlink(self):
        # access first: whoever may not delete learns nothing of the state
        self.check_access("unlink")
        if any(dispute.state != rules.CANCELLED for dispute in self):
            raise UserError(self.env._("Only cancelled disputes can be deleted."))
        return super().unlink()

    def _schedule_review_activity(self):
        """Ask the responsible person to review disputes opened by someone else."""
        activity_type = self.env.ref(
            "receivables_followup.mail_activity_type_dispute_review",
            raise_if_not_found=False,
        )
        for dispute in self:
            if not dispute.user_id or dispute.user_id == self.env.user:
                continue
            dispute.activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                user_id=dispute.user_id.id,
                date_deadline=dispute.date_deadline,
                summary=self.env._("Review dispute %(name)s", name=dispute.name),
            )

    def _post_opening_note(self):
        """Say in the dispute which invoices it pauses, and which keep escalating
        on their undisputed part (a small or partial dispute)."""
        self.line_ids.move_id.flush_recordset(["followup_dispute_paused"])
        for dispute in self:
            moves = dispute.line_ids.move_id
            paused = moves.filtered("followup_dispute_paused")
            if paused:
                dispute.message_post(
                    body=self.env._(
                        "Dispute opened: follow-up paused for %(invoices)s.",
                        invoices=", ".join(paused.mapped("name")),
                    ),
                    subtype_xmlid="mail.mt_note",
                )
            if moves - paused:
                dispute.message_post(
                    body=self.env._(
                        "The undisputed part of %(invoices)s keeps escalating: the "
                        "dispute covers only part of what is left to pay.",
                        invoices=", ".join((moves - paused).mapped("name")),
                    ),
                    subtype_xmlid="mail.mt_note",
                )

    # ------------------------------------------------------------------
    # Service for the rest of the addon
    # ------------------------------------------------------------------
    @api.model
    def _open_dispute(
        self,
        partner,
        invoice_amounts,
        reason_code,
        description=None,
        origin="internal",
        user=None,
        attachments=None,
    ):
        """Open a dispute and pause the follow-up of its invoices.

        :param partner: res.partner, the customer (any contact; the dispute goes to
            its commercial entity)
        :param dict invoice_amounts: {account.move: disputed amount in the invoice's
            currency}; ``None`` as amount disputes the whole residual
        :param str reason_code: ``code`` of a followup.dispute.reason (e.g.
            ``'pricing'``, ``'not_received'``, ``'other'``)
        :param str description: what the customer says, plain text or HTML
        :param str origin: ``'internal'``, ``'portal'`` or ``'agency'``
        :param user: res.users responsible for the dispute; by default the
            customer's follow-up responsible, else the invoices' salesperson
        :param attachments: ir.attachment records to attach to the dispute
        :return: the new followup.dispute
        :raise UserError: unknown reason, no invoice, or an invoice that cannot be
            disputed for that amount; nothing is written then
        """
        commercial = partner.commercial_partner_id
        reason = self._reason_of_code(reason_code)
        moves = self._disputed_moves(invoice_amounts)
        amounts = {
            move: move.amount_residual if amount is None else amount
            for move, amount in invoice_amounts.items()
        }
        self._validate_invoice_amounts(commercial, amounts)
        responsible = user or self._default_responsible(commercial, moves)
        dispute = self.with_company(moves.company_id).create(
            {
                "partner_id": commercial.id,
                "company_id": moves.company_id.id,
                "reason_id": reason.id,
                "description": description,
                "user_id": responsible.id,
                "line_ids": [
                    fields.Command.create({"move_id": move.id, "amount": amount})
                    for move, amount in amounts.items()
                ],
            }
        )
        if origin != "internal":
            # sudo: where a dispute came from is the workflow's to record
            dispute.sudo().write({"origin": origin})
        if attachments:
            attachments.write({"res_model": self._name, "res_id": dispute.id})
        return dispute

    @api.model
    def _reason_of_code(self, reason_code):
        """The followup.dispute.reason of ``reason_code``.

        :raise UserError: no reason has that code
        """
        reason = self.env["followup.dispute.reason"].search(
            [("code", "=", reason_code)], limit=1
        )
        if not reason:
            raise UserError(
                self.env._("Unknown dispute reason “%(code)s”.", code=reason_code)
            )
        return reason

    @api.model
    def _disputed_moves(self, invoice_amounts):
        """The invoices, keys of ``invoice_amounts``, as one recordset.

        :raise UserError: no invoice, or invoices of several companies
        """
        moves = self.env["account.move"].union(*invoice_amounts)
        if not moves:
            raise UserError(self.env._("A dispute needs at least one invoice."))
        if len(moves.company_id) > 1:
            raise UserError(
                self.env._("Dispute the invoices of one company at a time.")
            )
        return moves

    @api.model
    def _default_responsible(self, commercial, moves):
        company = moves.company_id[:1]
        return (
            # sudo: who follows the customer up is read for everyone who opens
            # a dispute, not only for credit controllers
            commercial.sudo().with_company(company).collection_user_id
            or moves.invoice_user_id[:1]
            or self.env.ref("base.user_admin", raise_if_not_found=False)
            or self.env.user
        )

    @api.model
    def _validate_invoice_amounts(self, commercial, amounts, exclude_lines=None):
        """Raise a UserError if any {move: amount} cannot be disputed by
        ``commercial``; ``exclude_lines`` are lines being replaced."""
        active = self.env["followup.dispute.line"].search(
            [
                ("move_id", "in", [move.id for move in amounts]),
                ("dispute_id.state", "in", rules.ACTIVE),
                (
                    "id",
                    "not in",
                    (exclude_lines or self.env["followup.dispute.line"]).ids,
                ),
            ]
        )
        for move, amount in amounts.items():
            error = rules.invoice_error(
                move_type=move.move_type,
                state=move.state,
                payment_state=move.payment_state,
                partner_id=move.commercial_partner_id.id,
                dispute_partner_id=commercial.id,
            ) or rules.amount_error(
                amount,
                move.amount_residual,
                already_disputed=sum(
                    active.filtered(lambda line, m=move: line.move_id == m).mapped(
                        "amount"
                    )
                ),
                rounding=move.currency_id.rounding,
            )
            if error:
                raise UserError(self._error_message(error, move=move, amount=amount))

    @api.model
    def _error_message(self, code, move=None, amount=0.0, target=None):
        """The translated message of a rule's error ``code``."""
        name = move.name if move else ""
        messages = {
            rules.ERR_TRANSITION: lambda: self.env._(
                "This dispute is %(state)s: it cannot move to %(target)s.",
                state=self._state_label(self.state if len(self) == 1 else False),
                target=self._state_label(target),
            ),
            rules.ERR_AMOUNT_NOT_POSITIVE: lambda: self.env._(
                "The disputed amount of %(invoice)s must be positive.", invoice=name
            ),
            rules.ERR_AMOUNT_TOO_LARGE: lambda: self.env._(
                "The disputed amount of %(invoice)s (%(amount)s) exceeds what is "
                "left to pay on it and not already disputed (%(residual)s).",
                invoice=name,
                amount=move.currency_id.format(amount),
                residual=move.currency_id.format(move.amount_residual),
            ),
            rules.ERR_INVOICE_NOT_CUSTOMER: lambda: self.env._(
                "%(invoice)s is not a customer invoice: it cannot be disputed.",
                invoice=name,
            ),
            rules.ERR_INVOICE_NOT_POSTED: lambda: self.env._(
                "%(invoice)s is not posted: it cannot be disputed.", invoice=name
            ),
            rules.ERR_INVOICE_CLOSED: lambda: self.env._(
                "%(invoice)s is already paid or reversed: it cannot be disputed.",
                invoice=name,
            ),
            rules.ERR_INVOICE_OTHER_PARTNER: lambda: self.env._(
                "%(invoice)s belongs to another customer than the dispute's.",
                invoice=name,
            ),
            rules.ERR_NO_INVOICE: lambda: self.env._(
                "A dispute needs at least one invoice."
            ),
            rules.ERR_REJECTION_REASON: lambda: self.env._(
                "Say why the dispute is rejected: the customer receives the reason."
            ),
            rules.ERR_NO_CREDIT_NOTE: lambda: self.env._(
                "A dispute resolved by credit note needs its credit note."
            ),
            rules.ERR_UNKNOWN_RESOLUTION: lambda: self.env._("Unknown resolution."),
        }
        return messages[code]()

    def _state_label(self, state):
        return dict(self._fields["state"]._description_selection(self.env)).get(
            state, state or ""
        )

    # ------------------------------------------------------------------
    # Workflow buttons (the workflow itself: followup_dispute_workflow.py)
    # ------------------------------------------------------------------
    def action_review(self):
        """Open -> under review; the customer is told their dispute is being handled."""
        changed = self._change_state(rules.UNDER_REVIEW)
        changed._send_customer_email(
            "receivables_followup.mail_template_dispute_acknowledged"
        )
        return True

    def action_resolve_correction(self):
        """The invoice was corrected another way (e.g. a new invoice): close it."""
        return self._resolve(rules.CORRECTION)

    def action_reject(self, reason):
        """Reject the dispute for ``reason`` (told to the customer); the invoices
        resume their follow-up."""
        return self._resolve(rules.REJECTED, rejection_reason=reason)

    def action_resolve_credit_note(self, credit_notes=None, allow_difference=False):
        """Resolve by credit note.

        :param credit_notes: posted customer credit notes to use; by default one is
            created per disputed invoice for its disputed amount, through Odoo's
            reversal flow. Each is reconciled with the dispute's invoices.
        :param allow_difference: the user confirmed that the credit notes may
            exceed the disputed amount (the excess stays the customer's credit)
        """
        self.ensure_one()
        self.check_access("write")
        self._check_transition(rules.RESOLVED)
        if credit_notes is None:
            credit_notes = self.line_ids._create_credit_notes()
        else:
            self._check_credit_notes(credit_notes, allow_difference)
        return self._resolve(rules.CREDIT_NOTE, credit_notes=credit_notes)

    def action_cancel(self):
        """The dispute was opened by mistake or withdrawn: the invoices resume."""
        self._change_state(rules.CANCELLED)
        return True

    def action_open_resolve_wizard(self):
        self.ensure_one()
        self._check_transition(rules.RESOLVED)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Resolve Dispute"),
            "res_model": "followup.dispute.resolve",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_dispute_id": self.id,
                "default_resolution": self.env.context.get(
                    "default_resolution", rules.CREDIT_NOTE
                ),
            },
        }

    def action_view_credit_notes(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Credit Notes"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("id", "in", self.credit_note_ids.ids)],
            "context": {"default_move_type": "out_refund", "create": False},
        }

    def action_view_invoices(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Disputed Invoices"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("id", "in", self.invoice_ids.ids)],
            "context": {"create": False},
        }

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.name
