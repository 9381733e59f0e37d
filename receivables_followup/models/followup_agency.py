import logging

from psycopg2.errors import TransactionRollbackError

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module

from ..services import backoff
from ..services.agency_errors import AgencyError, WebhookRefused

_logger = logging.getLogger(__name__)

MANAGER = "receivables_followup.group_followup_manager"


class FollowupAgency(models.Model):
    """A collection agency the company hands claims to.

    The agency's API is reached through an adapter, in the way of Odoo's
    ``payment.provider``: ``code`` names the adapter, each adapter extends it and
    overrides the ``_agency_*`` methods below, returning early for other codes.
    The rest of the addon (wizard, cases, outbox, poll) only calls those methods.
    """

    _name = "followup.agency"
    _description = "Collection Agency"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    code = fields.Selection(
        [("none", "No adapter")],
        string="Adapter",
        required=True,
        default="none",
        tracking=True,
        help="How Odoo talks to this agency.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    is_test = fields.Boolean(
        string="Test Mode",
        default=True,
        tracking=True,
        help="Cases are sent as test cases: the agency does not collect them.",
    )
    base_url = fields.Char(string="API URL", groups=MANAGER, tracking=True)
    api_key = fields.Char(string="API Key", groups=MANAGER, copy=False)
    webhook_secret = fields.Char(
        groups=MANAGER,
        copy=False,
        help="The secret the agency signs its callbacks with.",
    )
    webhook_secret_previous = fields.Char(
        string="Previous Webhook Secret",
        groups=MANAGER,
        copy=False,
        help="Still accepted while the agency rotates its secret; clear it once "
        "the rotation is over.",
    )
    agency_user_email = fields.Char(
        string="Team Member E-mail",
        groups=MANAGER,
        help="The agency account's user whose name signs the messages sent to "
        "the collection firm.",
    )
    test_tag = fields.Char(
        default="odoo-test",
        groups=MANAGER,
        help="Tag of the test cases, to find and delete them at the agency.",
    )
    default_fee_rate = fields.Float(
        string="Default Success Fee (%)",
        help="Used for estimates when the agency does not quote one.",
    )
    minimum_claim = fields.Monetary(
        currency_field="currency_id",
        help="Smallest case the agency takes, in the company's currency.",
    )
    send_documents = fields.Boolean(
        string="Send Invoice PDFs",
        default=True,
        help="Upload each invoice's PDF to the case after creating it.",
    )
    currency_ids = fields.Many2many(
        "res.currency",
        string="Accepted Currencies",
        help="Leave empty when the agency takes claims in any currency.",
    )
    responsible_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        help="Receives the activities when the agency fails or needs a decision.",
    )
    callback_url = fields.Char(
        string="Callback URL",
        compute="_compute_callback_url",
        help="Register this address at the agency for its callbacks.",
    )
    paused = fields.Boolean(
        readonly=True,
        tracking=True,
        help="Set when the agency kept failing: nothing is sent until it resumes.",
    )
    pause_reason = fields.Char(readonly=True)
    consecutive_failures = fields.Integer(readonly=True)
    failure_threshold = fields.Integer(
        string="Pause After Failures",
        default=10,
        help="Consecutive network errors, time-outs, 5xx and rate limits before "
        "the agency is paused. 0: never pause.",
    )
    request_timeout = fields.Float(
        string="Time-out (s)",
        default=30.0,
        help="How long a request waits for the agency's answer.",
    )
    max_attempts = fields.Integer(
        string="Attempts per Request",
        default=8,
        help="Tries of a request before it is shown as failed.",
    )
    poll_cursor = fields.Datetime(
        readonly=True, help="Latest change read from the agency by the status poll."
    )
    last_poll = fields.Datetime(readonly=True)
    connection_state = fields.Selection(
        [("unknown", "Not tested"), ("ok", "Connected"), ("error", "Failed")],
        default="unknown",
        readonly=True,
    )
    connection_message = fields.Char(readonly=True)
    case_ids = fields.One2many("followup.agency.case", "agency_id")
    case_count = fields.Integer(string="Cases", compute="_compute_counts")
    request_failed_count = fields.Integer(
        string="Failed Requests", compute="_compute_counts"
    )

    @api.depends("code")
    def _compute_callback_url(self):
        base = self.get_base_url()
        for agency in self:
            agency.callback_url = (
                f"{base}/receivables_followup/agency/{agency.id}/webhook"
                if agency.id and agency.code != "none"
                else False
            )

    def _compute_counts(self):
        cases = dict(
            self.env["followup.agency.case"]._read_group(
                [("agency_id", "in", self.ids)], ["agency_id"], ["__count"]
            )
        )
        failed = dict(
            self.env["followup.agency.request"]._read_group(
                [("agency_id", "in", self.ids), ("state", "=", "failed")],
                ["agency_id"],
                ["__count"],
            )
        )
        for agency in self:
            agency.case_count = cases.get(agency, 0)
            agency.request_failed_count = failed.get(agency, 0)

    # ------------------------------------------------------------------
    # adapter interface: each adapter overrides these for its code
    # ------------------------------------------------------------------
    def _agency_check_connection(self):
        """Check the credentials; return a sentence naming the account."""
        self.ensure_one()
        raise UserError(_("The agency %s has no adapter to connect to.", self.name))

    def _agency_preview(self, claims, timeout=None):
        """What the agency would do with each claim, without creating anything.

        :param claims: the adapter-neutral claims, as built by
            ``followup.agency.case._agency_claim``
        :returns: one ``AgencyPreview`` per claim, in order
        :raises AgencyError: when the agency cannot be asked
        """
        self.ensure_one()
        return [None] * len(claims)

    def _agency_execute(self, request, documents=None):
        """Perform one outbox request at the agency.

        :param request: a ``followup.agency.request``
        :param documents: ``{move_id: (content, extension)}`` rendered for the
            requests of this batch
        :returns: a dict of values for the request's result (``agency_case`` an
            ``AgencyCase`` when the agency answered one, ``note`` what to
            write in the case's chatter instead of the default)
        :raises AgencyError: classified failure
        """
        self.ensure_one()
        raise UserError(_("The agency %s has no adapter to send to.", self.name))

    def _agency_poll_changes(self, since):
        """The cases changed at the agency since ``since`` (aware datetime or
        None), as ``AgencyCase``, oldest change first."""
        self.ensure_one()
        return []

    def _agency_webhook_event(self, headers, raw_body):
        """Verify a callback's authenticity and read its event.

        :param headers: the request's headers
        :param bytes raw_body: the body exactly as received
        :returns: the event (with ``event_id``, ``event_type``, ``case_id``,
            ``creditor_reference``)
        :raises WebhookRefused: with the status to answer
        """
        self.ensure_one()
        raise WebhookRefused(404, "Not Found", "This agency takes no callbacks.")

    def _agency_process_event(self, event):
        """Apply a stored ``followup.agency.event``; return its case, or an
        empty recordset when no case here matches.

        :raises AgencyError: when the agency cannot be read back (retried)
        """
        self.ensure_one()
        return self.env["followup.agency.case"]

    def _agency_missing_details(self, case):
        """What the collection firm asks for on ``case``, as lines of text."""
        self.ensure_one()
        return []

    def _agency_fetch_payments(self, case):
        """The agency's current list of payments of ``case`` (``AgencyPayment``)."""
        self.ensure_one()
        return []

    def _agency_is_connected(self):
        """Whether requests to this agency go through an API (not a file)."""
        self.ensure_one()
        return False

    def _agency_uploads_documents(self):
        """Whether the invoice PDFs go to the agency as ``upload`` requests of
        their own, after the case is created (False: they travel with it)."""
        self.ensure_one()
        return True

    def _agency_request_documents(self, request):
        """The invoices whose document ``request`` needs: the outbox renders
        them in batches for all the requests it sends, and hands them to
        :meth:`_agency_execute` as ``documents``."""
        self.ensure_one()
        if request.kind == "upload":
            return request.move_id
        return self.env["account.move"]

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_test_connection(self):
        self.ensure_one()
        self._check_manager()
        try:
            message = self._agency_check_connection()
        except AgencyError as error:
            self.sudo().write(
                {"connection_state": "error", "connection_message": error.message}
            )
            raise UserError(
                _("The agency could not be reached: %s", error.message)
            ) from None
        self.sudo().write({"connection_state": "ok", "connection_message": message})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success", "message": message, "sticky": False},
        }

    def action_resume(self):
        """Resume a paused agency: its waiting requests are tried again now."""
        self._check_manager()
        self.sudo().write(
            {"paused": False, "pause_reason": False, "consecutive_failures": 0}
        )
        self.env["followup.agency.request"].sudo().search(
            [("agency_id", "in", self.ids), ("state", "=", "retry")]
        ).write({"next_attempt": fields.Datetime.now()})
        self.env.ref("receivables_followup.ir_cron_agency_outbox")._trigger()
        return True

    def action_open_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_case"
        )
        action["domain"] = [("agency_id", "=", self.id)]
        return action

    def action_open_failed_requests(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_request"
        )
        action["domain"] = [("agency_id", "=", self.id), ("state", "=", "failed")]
        return action

    def _check_manager(self):
        if not self.env.user.has_group(MANAGER):
            raise UserError(_("Only a follow-up manager can do this."))

    # ------------------------------------------------------------------
    # health
    # ------------------------------------------------------------------
    def _record_success(self):
        failing = self.filtered("consecutive_failures")
        if failing:
            failing.sudo()._write_health({"consecutive_failures": 0})

    def _record_failure(self, message):
        """Count a failure of the agency itself (not of one request's data);
        pause it when it keeps failing, and tell its responsible."""
        self.ensure_one()
        agency = self.sudo()
        failures = agency.consecutive_failures + 1
        values = {"consecutive_failures": failures}
        pause = not agency.paused and backoff.should_pause_agency(
            failures, agency.failure_threshold
        )
        if pause:
            values.update(paused=True, pause_reason=message)
        if not agency._write_health(values):
            return False
        if pause:
            self._pause_notify(message)
        return pause

    def _write_health(self, values):
        """Write the agency's failure count (and pause) in a savepoint; False
        when another worker wrote the agency meanwhile.

        The outbox, the poll and the callbacks count the agency's failures
        and successes from different cron workers. Under Odoo's repeatable
        read, the second writer of the row fails to serialize: without the
        savepoint that failure would roll back, at the outbox's commit, a
        request the agency has carried out. A count missed this way is one
        failure less towards a pause, and the next failure counts again.
        """
        try:
            with self.env.cr.savepoint():
                self.write(values)
        except TransactionRollbackError:
            _logger.info(
                "Agency %s: its health was written by another worker meanwhile",
                self.ids,
            )
            return False
        return True

    def _pause(self, message):
        """Stop sending to the agency at once (credentials refused)."""
        self.ensure_one()
        if not self.paused:
            self.sudo().write({"paused": True, "pause_reason": message})
            self._pause_notify(message)

    def _pause_notify(self, message):
        _logger.warning("Collection agency %s paused: %s", self.id, message)
        agency = self.sudo()
        agency.message_post(
            body=_("Sending to the agency is paused: %s", message),
            message_type="notification",
        )
        agency.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Collection agency paused: check it, then resume"),
            note=message,
            user_id=(agency.responsible_id or self.env.ref("base.user_admin")).id,
        )

    # ------------------------------------------------------------------
    # status poll
    # ------------------------------------------------------------------
    @api.model
    def _cron_poll_agencies(self):
        """Scheduled action: read the cases each agency changed since its cursor
        and apply them, the fallback for callbacks that never came."""
        agencies = self.sudo().search([("paused", "=", False), ("code", "!=", "none")])
        Case = self.env["followup.agency.case"].sudo()
        for agency in agencies.filtered(lambda a: a._agency_is_connected()):
            if not Case.search_count([("agency_id", "=", agency.id)], limit=1):
                continue
            since = agency.poll_cursor
            try:
                changes = agency._agency_poll_changes(since)
                # each case committed as soon as it is applied: a long poll
                # holds no case from the callbacks, and a failure further on
                # keeps what was applied (the cursor moves only at the end)
                newest, _cases = Case._apply_agency_changes(
                    agency,
                    changes,
                    payments_of=agency._agency_fetch_payments,
                    commit=not odoo_module.current_test,
                )
            except AgencyError as error:
                _logger.warning("Status poll of agency %s failed: %s", agency.id, error)
                agency._record_failure(error.message)
                continue
            except UserError as error:
                # e.g. no account to book collected money yet: the changes wait
                # at the agency until a manager completes the setup
                agency.message_post(
                    body=_("The status poll stopped: %s", error.args[0]),
                    message_type="notification",
                )
                continue
            agency._record_success()
            values = {"last_poll": fields.Datetime.now()}
            if newest and (not since or newest > since):
                values["poll_cursor"] = newest
            agency.write(values)
        return True
