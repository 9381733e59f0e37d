import logging
from datetime import timedelta

from psycopg2.errors import TransactionRollbackError

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module

from ..services import agency_errors, backoff, locks
from ..services.agency_errors import AgencyError

_logger = logging.getLogger(__name__)

#: requests sent per call of the scheduled action (Odoo's cron runner commits
#: and calls again while some remain)
BATCH_SIZE = 50
#: invoice PDFs rendered per wkhtmltopdf call
RENDER_BATCH = 50
INVOICE_REPORT = "account.account_invoices"
#: failures of the agency, not of the request's data: retried later
RETRIED = (agency_errors.TRANSIENT, agency_errors.RATE_LIMITED)
#: ceiling of the first retry's delay, seconds (it doubles with each failure)
DEFAULT_RETRY_BASE = 30.0
RETRY_BASE_PARAM = "receivables_followup.agency_retry_base"


class FollowupAgencyRequest(models.Model):
    """The outbox: one call to an agency, sent by a scheduled action.

    Users' transactions never call an agency: they queue requests, committed
    with their work. Each request has an idempotency key of its own, stable
    across retries, so that a request retried after a lost answer changes
    nothing twice at the agency.
    """

    _name = "followup.agency.request"
    _description = "Collection Agency Request"
    _order = "id desc"

    agency_id = fields.Many2one(
        "followup.agency", required=True, readonly=True, index=True, ondelete="cascade"
    )
    case_id = fields.Many2one(
        "followup.agency.case", readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="agency_id.company_id", store=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    kind = fields.Selection(
        [
            ("create", "Create the case"),
            ("upload", "Upload an invoice"),
            ("message", "Message the collection firm"),
            ("refresh", "Read the case"),
        ],
        string="Request",
        required=True,
        readonly=True,
    )
    state = fields.Selection(
        [
            ("pending", "To Send"),
            ("retry", "Waiting for Retry"),
            ("done", "Sent"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    idempotency_key = fields.Char(required=True, readonly=True, copy=False)
    message = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(readonly=True, index=True)
    date_done = fields.Datetime(string="Sent On", readonly=True)
    error_kind = fields.Char(string="Error Type", readonly=True)
    error_status = fields.Integer(string="HTTP Status", readonly=True)
    last_error = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "idempotency_key_unique",
            "unique(idempotency_key)",
            "An agency request's idempotency key is unique.",
        )
    ]

    @api.depends("kind", "case_id", "move_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for request in self:
            parts = [
                kinds.get(request.kind),
                request.case_id.name,
                request.move_id.name,
            ]
            request.display_name = " · ".join(filter(None, parts))

    # ------------------------------------------------------------------
    # sending
    # ------------------------------------------------------------------
    def _due_domain(self):
        return [
            ("state", "in", ("pending", "retry")),
            ("next_attempt", "<=", fields.Datetime.now()),
            ("agency_id.paused", "=", False),
            # what needs the agency's case waits until the case exists there
            "|",
            ("kind", "=", "create"),
            ("case_id.agency_case_id", "!=", False),
        ]

    @api.model
    def _cron_send_requests(self, batch_size=BATCH_SIZE):
        """Scheduled action: send the due requests, oldest first.

        Each request is locked while it is sent (``SKIP LOCKED``), so two runs
        never send it together, and committed as soon as it is done, so that a
        crash repeats at most the request in flight, whose idempotency key makes
        the repetition harmless.
        """
        requests = self.sudo().search(self._due_domain(), order="id", limit=batch_size)
        documents = self._render_documents(requests._documents_needed())
        done = 0
        for request in requests:
            # an agency paused by a failure earlier in this batch is left alone
            if request.agency_id.paused or not request._lock():
                continue
            request._send(documents)
            done += 1
            if not odoo_module.current_test:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.sudo().search_count(self._due_domain())
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    def _lock(self):
        """Lock the request for this transaction; False when another worker
        holds it or already sent it."""
        return locks.lock_waiting(self, ("pending", "retry"))

    def _documents_needed(self):
        """The invoices whose PDF these requests send, as each adapter says."""
        moves = self.env["account.move"]
        for request in self:
            moves |= request.agency_id._agency_request_documents(request)
        return moves

    def _render_documents(self, moves):
        """Invoice PDFs of ``moves``, rendered in batches of one wkhtmltopdf
        call each: {move_id: (content, extension)}."""
        documents = {}
        Report = self.env["ir.actions.report"].sudo()
        for start in range(0, len(moves), RENDER_BATCH):
            chunk = moves[start : start + RENDER_BATCH]
            try:
                documents.update(
                    Report._render_followup_documents(INVOICE_REPORT, chunk.ids)
                )
            except Exception:  # noqa: BLE001 - a bad invoice must not stop the outbox
                _logger.exception("Rendering %s invoice PDFs failed", len(chunk))
        return documents

    def _send(self, documents):
        self.ensure_one()
        agency = self.agency_id
        try:
            with self.env.cr.savepoint():
                result = agency._agency_execute(self, documents=documents)
                self._on_success(result or {})
        except AgencyError as error:
            self._on_error(error)
            return
        except TransactionRollbackError as error:
            # the agency answered, but another worker changed the case meanwhile
            # (a callback, the poll) and this transaction cannot write it: the
            # request is sent again, its idempotency key replays the answer
            self._retry_soon(str(error))
            return
        except Exception as error:  # noqa: BLE001 - shown on the request, not lost
            _logger.exception("Agency request %s failed", self.id)
            self._on_error(
                AgencyError(agency_errors.VALIDATION, _("Unexpected error: %s", error))
            )
            return
        agency._record_success()

    def _on_success(self, result):
        self.write(
            {
                "state": "done",
                "date_done": fields.Datetime.now(),
                "attempts": self.attempts + 1,
                "error_kind": False,
                "error_status": False,
                "last_error": False,
            }
        )
        case = self.case_id.sudo()
        if result.get("agency_case"):
            case._apply_agency_case(result["agency_case"])
        if result.get("note"):
            case.message_post(body=result["note"], message_type="notification")
        elif self.kind == "create":
            case.message_post(
                body=_(
                    "Case created at the agency: reference %s.",
                    case.agency_reference or case.agency_case_id,
                ),
                message_type="notification",
            )
        elif self.kind == "upload":
            case.line_ids.filtered(lambda line: line.move_id == self.move_id).write(
                {"document_sent": True}
            )
        elif self.kind == "message":
            case.message_post(
                body=_("Message sent to the collection firm: %s", self.message),
                message_type="notification",
            )

    def _on_error(self, error):
        """Classify the failure: retried later (the agency's fault), paused (its
        credentials), or failed for a person to look at (the data's fault)."""
        agency = self.agency_id
        attempts = self.attempts + 1
        values = {
            "attempts": attempts,
            "error_kind": error.kind,
            "error_status": error.status or False,
            "last_error": _describe(self.env, error),
        }
        if error.kind in RETRIED and attempts < agency.max_attempts:
            delay = backoff.retry_delay(
                attempts, base=self._retry_base(), retry_after=error.retry_after
            )
            next_attempt = fields.Datetime.now() + timedelta(seconds=delay)
            values.update(state="retry", next_attempt=next_attempt)
            self.write(values)
            # the retry is due at its time, not at the scheduled action's next
            # interval (5 minutes, or whatever an administrator set)
            self.env.ref("receivables_followup.ir_cron_agency_outbox").sudo()._trigger(
                next_attempt
            )
            agency._record_failure(error.message)
            return
        if error.kind == agency_errors.AUTH:
            # nothing will go through until someone fixes the key: keep the
            # request as it is and stop the agency
            values.update(state="retry", attempts=self.attempts)
            self.write(values)
            agency._pause(error.message)
            return
        values["state"] = "failed"
        self.write(values)
        if error.kind in RETRIED:
            agency._record_failure(error.message)
        if self.case_id:
            self.case_id.message_post(
                body=_("Request to the agency failed: %s", values["last_error"]),
                message_type="notification",
            )
            self.case_id._schedule_activity(
                _("A request to the collection agency failed"),
                note=values["last_error"],
            )

    def _retry_soon(self, message):
        """Send the request again after a short delay, without counting it as
        a failure of the agency."""
        delay = backoff.retry_delay(1, base=self._retry_base())
        next_attempt = fields.Datetime.now() + timedelta(seconds=delay)
        self.write(
            {"state": "retry", "next_attempt": next_attempt, "last_error": message}
        )
        self.env.ref("receivables_followup.ir_cron_agency_outbox").sudo()._trigger(
            next_attempt
        )

    def _retry_base(self):
        """Ceiling in seconds of the first retry's delay (it doubles with each
        failure): the system parameter ``receivables_followup.agency_retry_base``,
        30 by default."""
        value = self.env["ir.config_parameter"].sudo().get_param(RETRY_BASE_PARAM)
        try:
            return max(float(value), 0.0) if value else DEFAULT_RETRY_BASE
        except ValueError:
            return DEFAULT_RETRY_BASE

    # ------------------------------------------------------------------
    # buttons
    # ------------------------------------------------------------------
    def action_retry(self):
        self.agency_id._check_manager()
        failed = self.filtered(lambda r: r.state == "failed")
        if failed.filtered(lambda r: r.error_kind == agency_errors.CONFLICT):
            raise UserError(
                _(
                    "An idempotency conflict is not retried: the agency holds another "
                    "request under the same key. Report it as a bug."
                )
            )
        failed.sudo().write(
            {"state": "pending", "attempts": 0, "next_attempt": fields.Datetime.now()}
        )
        self.env.ref("receivables_followup.ir_cron_agency_outbox").sudo()._trigger()
        return True

    def action_cancel(self):
        self.agency_id._check_manager()
        self.filtered(lambda r: r.state in ("pending", "retry", "failed")).sudo().write(
            {"state": "cancelled"}
        )
        return True


def _describe(env, error):
    """The agency's message for a person, with a word on what it means, in the
    language of ``env``."""
    if error.kind == agency_errors.CONFLICT:
        return env._(
            "Idempotency conflict: the agency already received another request "
            "with this key. This is a bug of the connector, not retried. (%s)",
            error.message,
        )
    text = error.message or ""
    if error.field_errors:
        details = "; ".join(
            f"{field}: {', '.join(messages)}"
            for field, messages in sorted(error.field_errors.items())
        )
        text = f"{text} ({details})"
    return text
