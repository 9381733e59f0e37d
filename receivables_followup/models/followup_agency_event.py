import logging
from datetime import timedelta

from psycopg2.errors import TransactionRollbackError

from odoo import _, api, fields, models
from odoo.modules import module as odoo_module

from ..services import agency_errors, backoff, locks
from ..services.agency_errors import AgencyError

_logger = logging.getLogger(__name__)

#: events processed per call of the scheduled action
BATCH_SIZE = 100
#: a failed event is tried again by the scheduled action up to this many times
MAX_ATTEMPTS = 5
#: the agency could not be read back, or another worker changed the case at the
#: same time: the event waits and is tried again, for as long as it takes
RETRIED = (agency_errors.TRANSIENT, agency_errors.RATE_LIMITED)


class FollowupAgencyEvent(models.Model):
    """The inbox: every verified callback of an agency, stored before anything
    is done with it, then processed by a scheduled action.

    Nothing an agency sent is lost: a failure leaves the event stored as failed,
    with its error, tried again later and by the Retry button. A second
    delivery of the same event finds it here and changes nothing.
    """

    _name = "followup.agency.event"
    _description = "Collection Agency Callback"
    _order = "id desc"
    _rec_name = "event_id"

    agency_id = fields.Many2one(
        "followup.agency", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="agency_id.company_id", store=True)
    event_id = fields.Char(string="Event ID", required=True, readonly=True)
    event_type = fields.Char(string="Event", required=True, readonly=True)
    agency_case_ref = fields.Char(string="Agency Case", readonly=True, index=True)
    case_id = fields.Many2one("followup.agency.case", readonly=True, index=True)
    payload = fields.Text(readonly=True, help="The body as the agency sent it.")
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    source_address = fields.Char(readonly=True)
    state = fields.Selection(
        [
            ("received", "Received"),
            ("done", "Processed"),
            ("unknown_case", "Unknown Case"),
            ("failed", "Failed"),
        ],
        default="received",
        required=True,
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(
        readonly=True,
        index=True,
        help="Set while the agency could not be read back: the event is tried "
        "again then.",
    )
    processed_at = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "event_unique",
            "unique(agency_id, event_id)",
            "An agency's event is stored once.",
        )
    ]

    @api.model
    def _store(self, agency, event, raw_body, source_address):
        """Store a verified event unless it is there already; return whether it
        is new. One INSERT: two deliveries at once store it once."""
        self.env.cr.execute(
            """INSERT INTO followup_agency_event
                   (agency_id, company_id, event_id, event_type, agency_case_ref,
                    payload, received_at, source_address, state, attempts,
                    create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, now() at time zone 'utc', %s,
                    'received', 0, %s, now() at time zone 'utc', %s,
                    now() at time zone 'utc')
            ON CONFLICT (agency_id, event_id) DO NOTHING
            RETURNING id""",
            [
                agency.id,
                agency.company_id.id,
                event.event_id,
                event.event_type,
                event.case_id or event.creditor_reference,
                raw_body.decode("utf-8", "replace"),
                source_address,
                self.env.uid,
                self.env.uid,
            ],
        )
        return bool(self.env.cr.fetchone())

    # ------------------------------------------------------------------
    # processing
    # ------------------------------------------------------------------
    @api.model
    def _cron_process_events(self, batch_size=BATCH_SIZE):
        """Scheduled action: process the events received, oldest first, and try
        the failed ones again (up to a few times; then a person retries)."""
        events = self.sudo().search(
            [
                "|",
                ("state", "=", "received"),
                "&",
                ("state", "=", "failed"),
                "|",
                "&",
                ("next_attempt", "!=", False),
                ("next_attempt", "<=", fields.Datetime.now()),
                "&",
                ("next_attempt", "=", False),
                ("attempts", "<", MAX_ATTEMPTS),
            ],
            order="id",
            limit=batch_size,
        )
        for event in events:
            if not event._lock():
                continue
            event._process()
            if not odoo_module.current_test:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.sudo().search_count([("state", "=", "received")])
        self.env["ir.cron"]._notify_progress(done=len(events), remaining=remaining)
        return len(events), remaining

    def _lock(self):
        """Lock the event for this transaction; False when another worker
        holds it or already processed it."""
        return locks.lock_waiting(self, ("received", "failed"))

    def _process(self):
        self.ensure_one()
        values = {
            "attempts": self.attempts + 1,
            "processed_at": fields.Datetime.now(),
            "next_attempt": False,
        }
        try:
            with self.env.cr.savepoint():
                case = self.agency_id._agency_process_event(self)
        except AgencyError as error:
            values.update(state="failed", error=error.message)
            if error.kind in RETRIED:
                self._retry_later(values, error.retry_after)
            self.write(values)
            return
        except TransactionRollbackError as error:
            # another worker changed the case meanwhile (a callback of the same
            # case, the poll): this transaction cannot see it, the next one will
            values.update(state="failed", error=str(error))
            self._retry_later(values, None)
            self.write(values)
            return
        except Exception as error:  # noqa: BLE001 - kept on the event, never lost
            _logger.exception("Processing agency event %s failed", self.id)
            self.write(dict(values, state="failed", error=str(error)))
            return
        if case:
            self.write(dict(values, state="done", case_id=case.id, error=False))
        else:
            _logger.warning(
                "Agency %s sent event %s for a case unknown here",
                self.agency_id.id,
                self.event_id,
            )
            self.write(
                dict(
                    values,
                    state="unknown_case",
                    error=_("No case here has this agency reference."),
                )
            )

    def _retry_later(self, values, retry_after):
        """Give the event a time to be tried again (a failure of the agency,
        not of the event: it never gives up), and wake the scheduled action
        then."""
        base = self.env["followup.agency.request"]._retry_base()
        delay = backoff.retry_delay(
            values["attempts"], base=base, retry_after=retry_after
        )
        values["next_attempt"] = fields.Datetime.now() + timedelta(seconds=delay)
        self.env.ref("receivables_followup.ir_cron_agency_events").sudo()._trigger(
            values["next_attempt"]
        )

    def action_retry(self):
        self.agency_id._check_manager()
        for event in self.filtered(lambda e: e.state in ("failed", "unknown_case")):
            event.sudo()._process()
        return True
