import logging
import uuid

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_amount

from ..services.debitura import const
from ..services.debitura.payloads import Claim, Debtor

_logger = logging.getLogger(__name__)

CASE_STATES = [
    (const.DRAFT, "Draft"),
    (const.QUEUED, "Queued"),
    (const.SUBMITTED, "Submitted"),
    (const.NEEDS_DETAILS, "Needs Details"),
    (const.ACTIVE, "Active"),
    (const.PAUSED, "Paused"),
    (const.CLOSED_PAID, "Closed: Paid"),
    (const.CLOSED_PARTLY_PAID, "Closed: Partly Paid"),
    (const.CLOSED_UNCOLLECTABLE, "Closed: Uncollectable"),
    (const.WITHDRAWN, "Withdrawn"),
    (const.REJECTED, "Rejected"),
]
#: the agency works on the case: its invoices are the agency's
OPEN_STATES = (
    const.QUEUED,
    const.SUBMITTED,
    const.NEEDS_DETAILS,
    const.ACTIVE,
    const.PAUSED,
)
#: closed without the money: the invoices come back to the company
RETURNED_STATES = (const.WITHDRAWN, const.REJECTED)
CLOSED_STATES = (
    const.CLOSED_PAID,
    const.CLOSED_PARTLY_PAID,
    const.CLOSED_UNCOLLECTABLE,
    *RETURNED_STATES,
)
#: close codes saying the debtor contests the claim: a dispute, not a write-off
DISPUTED_CLOSE_CODES = ("DisputedLegalActionDeclined",)
#: amounts the agency reports, written only when it states them
#: ``ChatDto.role`` of the messages the creditor (we) sent
CHAT_ROLE_CREDITOR = 1
#: what a credit controller may change on a case
USER_FIELDS = frozenset({"user_id", "note"})
AGENCY_AMOUNTS = (
    "amount_remaining",
    "amount_collected",
    "amount_fees",
)


class FollowupAgencyCase(models.Model):
    """One debtor's claim at a collection agency, a line per invoice.

    Every change the agency reports (an answer to our requests, the status poll,
    and the callbacks) goes through :meth:`_apply_agency_changes`: a case never
    moves backwards, whatever order the news arrives in.
    """

    _name = "followup.agency.case"
    _description = "Collection Agency Case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True
    _rec_names_search = ["name", "creditor_reference", "agency_reference"]

    name = fields.Char(
        string="Reference", required=True, copy=False, readonly=True, default="/"
    )
    agency_id = fields.Many2one(
        "followup.agency", required=True, readonly=True, index=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Debtor", required=True, readonly=True, index=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Follows the case and receives its activities.",
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    state = fields.Selection(
        CASE_STATES, default=const.DRAFT, required=True, readonly=True, tracking=True
    )
    withdrawal_requested = fields.Boolean(readonly=True, tracking=True)
    is_test = fields.Boolean(string="Test Case", readonly=True)
    date_handed = fields.Date(string="Handed Over On", readonly=True)
    note = fields.Text(
        string="Note to the Agency", help="Sent with the claim to the collection firm."
    )
    creditor_reference = fields.Char(
        readonly=True,
        copy=False,
        index=True,
        help="Our reference of the case at the agency.",
    )
    agency_case_id = fields.Char(
        string="Agency Case ID", readonly=True, copy=False, index=True
    )
    agency_reference = fields.Char(readonly=True, copy=False, tracking=True)
    agency_lifecycle = fields.Char(string="Agency Status", readonly=True)
    agency_close_code = fields.Char(string="Close Code", readonly=True)
    agency_updated_at = fields.Datetime(string="Agency Update", readonly=True)
    needs_info = fields.Boolean(string="Agency Needs Information", readonly=True)
    assigned_firm = fields.Char(
        string="Collection Firm", readonly=True, help="As proposed by the agency."
    )
    exclusive_period_end = fields.Date(readonly=True)
    case_file_id = fields.Many2one(
        "ir.attachment",
        readonly=True,
        copy=False,
        help="The case file (XML and the invoice PDFs, zipped) produced for an "
        "agency without an API.",
    )
    line_ids = fields.One2many("followup.agency.case.line", "case_id", readonly=True)
    request_ids = fields.One2many("followup.agency.request", "case_id", readonly=True)
    agency_payment_ids = fields.One2many(
        "followup.agency.payment", "case_id", string="Agency Payments", readonly=True
    )
    invoice_count = fields.Integer(string="Invoices", compute="_compute_invoice_count")
    request_failed_count = fields.Integer(
        string="Failed Requests", compute="_compute_request_counts"
    )
    request_waiting_count = fields.Integer(
        string="Requests to Send", compute="_compute_request_counts"
    )
    amount_handed = fields.Monetary(
        string="Handed Over", readonly=True, currency_field="currency_id"
    )
    amount_remaining = fields.Monetary(
        string="Remaining", readonly=True, currency_field="currency_id"
    )
    amount_collected = fields.Monetary(
        string="Collected", readonly=True, currency_field="currency_id"
    )
    amount_fees = fields.Monetary(
        string="Fees Added",
        readonly=True,
        currency_field="currency_id",
        help="Interest and fees the agency added to the claim, paid by the debtor.",
    )
    success_fee_rate = fields.Float(
        string="Success Fee (%)", readonly=True, digits=(5, 2)
    )
    success_fee_amount = fields.Monetary(
        string="Success Fee",
        compute="_compute_success_fee",
        store=True,
        currency_field="currency_id",
        help="The agency's share of what it collected; estimated from the "
        "handed-over amount until it collects.",
    )

    _sql_constraints = [
        (
            "creditor_reference_unique",
            "unique(creditor_reference)",
            "A case's reference at the agency is unique.",
        )
    ]

    @api.constrains("success_fee_rate")
    def _check_success_fee_rate(self):
        # the rate comes from the agency's preview through the hand-off
        # wizard, whose lines an RPC client can write: a negative or absurd
        # rate would book fees the agency never charged
        for case in self:
            if not 0 <= case.success_fee_rate <= 100:
                raise ValidationError(
                    _(
                        "The success fee of case %(case)s must be a percentage "
                        "between 0 and 100, not %(rate)s.",
                        case=case.name,
                        rate=case.success_fee_rate,
                    )
                )

    def write(self, vals):
        if not self.env.su:
            engine = {
                name
                for name in vals
                if name not in USER_FIELDS
                and not name.startswith(("message_", "activity_"))
            }
            if engine:
                raise AccessError(
                    _(
                        "A case changes through the hand-off, its buttons and the "
                        "agency's news, not directly (%s).",
                        ", ".join(sorted(engine)),
                    )
                )
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"].sudo()
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = sequence.next_by_code("followup.agency.case") or "/"
        cases = super().create(vals_list)
        # unique across databases sharing an agency account: the database's uuid
        prefix = (
            self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")[:8]
        )
        for case in cases:
            case.creditor_reference = f"RF-{prefix}-{case.id}"
        return cases

    @api.depends("success_fee_rate", "amount_collected", "amount_handed")
    def _compute_success_fee(self):
        for case in self:
            base = case.amount_collected or case.amount_handed
            case.success_fee_amount = case.currency_id.round(
                base * (case.success_fee_rate or 0.0) / 100.0
            )

    def _compute_invoice_count(self):
        for case in self:
            case.invoice_count = len(case.line_ids)

    def _compute_request_counts(self):
        groups = self.env["followup.agency.request"]._read_group(
            [
                ("case_id", "in", self.ids),
                ("state", "in", ("failed", "pending", "retry")),
            ],
            ["case_id", "state"],
            ["__count"],
        )
        counts = {(case, state): count for case, state, count in groups}
        for case in self:
            case.request_failed_count = counts.get((case, "failed"), 0)
            case.request_waiting_count = counts.get((case, "pending"), 0) + counts.get(
                (case, "retry"), 0
            )

    # ------------------------------------------------------------------
    # what goes to the agency
    # ------------------------------------------------------------------
    def _agency_claim(self):
        """The case as an adapter-neutral claim."""
        self.ensure_one()
        debtor = self.partner_id
        contact = self.line_ids.move_id.partner_id[:1] or debtor
        agency = self.agency_id.sudo()
        return Claim(
            creditor_reference=self.creditor_reference,
            currency=self.currency_id.name,
            date=self.date_handed,
            debtor=Debtor(
                is_company=debtor.is_company,
                name=debtor.name,
                address=", ".join(filter(None, [debtor.street, debtor.street2])),
                zip=debtor.zip or "",
                city=debtor.city or "",
                country_code=debtor.country_id.code or "",
                state_code=debtor.state_id.code or "",
                email=contact.email or debtor.email or "",
                phone=contact.phone or debtor.phone or "",
                vat=debtor.vat or debtor.company_registry or "",
                contact_person=contact.name if contact != debtor else "",
            ),
            lines=[
                (line.move_id.name, line.due_date, line.amount_handed)
                for line in self.line_ids.sorted(
                    lambda line: (line.due_date, line.move_id.id)
                )
            ],
            comments=self.note or None,
            is_test=self.is_test,
            tag=agency.test_tag if self.is_test else None,
            creditor_name=self.company_id.name,
        )

    def _queue_submission(self):
        """Queue the creation of each case at its agency, then the upload of
        each invoice's PDF (for the agencies that take them apart from the
        case): the outbox sends them in this order and resumes where it
        stopped."""
        Request = self.env["followup.agency.request"].sudo()
        values = []
        for case in self:
            values.append(
                case._request_values("create", f"{case.creditor_reference}:create")
            )
            agency = case.agency_id
            if agency.send_documents and agency._agency_uploads_documents():
                values += [
                    dict(
                        case._request_values(
                            "upload",
                            f"{case.creditor_reference}:file:{line.move_id.id}",
                        ),
                        move_id=line.move_id.id,
                    )
                    for line in case.line_ids
                ]
        self.sudo().write({"state": const.QUEUED})
        requests = Request.create(values)
        self.env.ref("receivables_followup.ir_cron_agency_outbox").sudo()._trigger()
        return requests

    def _queue_message(self, message):
        """Queue a message to the collection firm of each case."""
        Request = self.env["followup.agency.request"].sudo()
        requests = Request.create(
            [
                dict(
                    case._request_values(
                        "message", f"{case.creditor_reference}:msg:{uuid.uuid4().hex}"
                    ),
                    message=message,
                )
                for case in self
            ]
        )
        self.env.ref("receivables_followup.ir_cron_agency_outbox").sudo()._trigger()
        return requests

    def _request_values(self, kind, key):
        return {
            "agency_id": self.agency_id.id,
            "case_id": self.id,
            "kind": kind,
            "idempotency_key": key,
            "next_attempt": fields.Datetime.now(),
        }

    def _send_transfer_notice(self):
        """Tell each debtor that its invoices went to the agency."""
        template = self.env.ref(
            "receivables_followup.mail_template_agency_transfer_notice"
        )
        for case in self:
            case.message_post_with_source(
                template, message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def _schedule_activity(self, summary, note=None, user=None):
        for case in self:
            assignee = user or case.user_id or case.agency_id.responsible_id
            case.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=note,
                user_id=assignee.id or self.env.uid,
            )

    # ------------------------------------------------------------------
    # keeping the agency informed
    # ------------------------------------------------------------------
    @api.model
    def _cron_inform_agencies(self):
        """Scheduled action: tell the agencies what happened to their invoices
        in Odoo (paid to us directly, credited, disputed)."""
        lines = (
            self.env["followup.agency.case.line"]
            .sudo()
            .search(
                [
                    ("case_id.state", "in", OPEN_STATES),
                    ("case_id.agency_case_id", "!=", False),
                ]
            )
        )
        news = {}
        for line in lines:
            text = line._news_for_agency()
            if text:
                news.setdefault(line.case_id, []).append(text)
        for case, texts in news.items():
            body = "\n".join(texts)
            case._queue_message(body)
            case.message_post(
                body=_("The agency is told: %s", body), message_type="notification"
            )
            case._schedule_activity(
                _("Check the agency's answer on case %s", case.name), note=body
            )
        return True

    # ------------------------------------------------------------------
    # buttons
    # ------------------------------------------------------------------
    def action_send_now(self):
        # the requests are moved with sudo: the caller must be one who may
        # act on these cases (a follow-up user of their company)
        self.check_access("write")
        self.env["followup.agency.request"].sudo().search(
            [("case_id", "in", self.ids), ("state", "in", ("pending", "retry"))]
        ).write({"next_attempt": fields.Datetime.now()})
        self.env.ref("receivables_followup.ir_cron_agency_outbox").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": _("The requests are being sent to the agency."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_request_withdrawal(self):
        self.agency_id._check_manager()
        cases = self.filtered(
            lambda c: c.state in OPEN_STATES and not c.withdrawal_requested
        )
        if not cases:
            raise UserError(_("Only a case at the agency can be withdrawn."))
        for case in cases:
            case._queue_message(
                _(
                    "%(company)s asks to withdraw case %(ref)s (%(amount)s): please "
                    "stop collection and confirm the closing.",
                    company=case.company_id.name,
                    ref=case.agency_reference or case.creditor_reference,
                    amount=format_amount(
                        self.env, case.amount_handed, case.currency_id
                    ),
                )
            )
        cases.sudo().write({"withdrawal_requested": True})
        return True

    def action_refresh(self):
        for case in self.filtered("agency_case_id"):
            self.env["followup.agency.request"].sudo().create(
                case._request_values(
                    "refresh", f"{case.creditor_reference}:refresh:{uuid.uuid4().hex}"
                )
            )
        return self.action_send_now()

    def action_download_case_file(self):
        self.ensure_one()
        if not self.case_file_id:
            raise UserError(_("No case file has been produced for %s yet.", self.name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.case_file_id.id}?download=true",
            "target": "self",
        }

    def action_open_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.line_ids.move_id.ids)]
        action["context"] = {"create": False}
        return action

    def action_open_requests(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_request"
        )
        action["domain"] = [("case_id", "=", self.id)]
        return action
