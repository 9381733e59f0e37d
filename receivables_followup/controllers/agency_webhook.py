import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..services.agency_errors import WebhookRefused
from ..services.debitura.webhooks import MAX_BODY_BYTES

_logger = logging.getLogger(__name__)


def problem(status, title, detail):
    """An RFC 9457 problem-details answer."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return request.make_response(
        json.dumps(body),
        headers=[("Content-Type", "application/problem+json")],
        status=status,
    )


class AgencyWebhookController(http.Controller):
    """The callbacks of the collection agencies: one public address per agency.

    The agency's adapter checks the delivery's signature before anything is
    parsed or stored; a verified event is stored in the inbox and processed by a
    scheduled action after the answer, so that the agency gets its 2xx fast.
    """

    @http.route(
        "/receivables_followup/agency/<int:agency_id>/webhook",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def agency_webhook(self, agency_id, **_params):
        httprequest = request.httprequest
        try:
            self._check_content_type(httprequest)
            raw_body = self._read_body(httprequest)
            agency = request.env["followup.agency"].sudo().browse(agency_id).exists()
            if not agency or agency.code == "none":
                raise WebhookRefused(404, "Not Found", "No such agency.")
            event = agency._agency_webhook_event(httprequest.headers, raw_body)
        except WebhookRefused as refused:
            # status and reason only: no header, secret or body in the logs
            _logger.info(
                "Agency callback refused (agency %s): %s %s",
                agency_id,
                refused.status,
                refused.detail,
            )
            return problem(refused.status, refused.title, refused.detail)
        Event = request.env["followup.agency.event"].sudo()
        new = Event._store(agency, event, raw_body, httprequest.remote_addr)
        if new:
            self._trigger_processing()
        return request.make_json_response(
            {"status": "accepted" if new else "duplicate", "id": event.event_id},
            status=200,
        )

    @staticmethod
    def _trigger_processing():
        """Wake the scheduled action up, once: a trigger already waiting will
        process this event too (a trigger per event costs a row and a NOTIFY
        on a new connection, and halves the callbacks a server accepts)."""
        cron = request.env.ref("receivables_followup.ir_cron_agency_events").sudo()
        waiting = (
            request.env["ir.cron.trigger"]
            .sudo()
            .search_count([("cron_id", "=", cron.id)], limit=1)
        )
        if not waiting:
            cron._trigger()

    @staticmethod
    def _check_content_type(httprequest):
        """Agencies send JSON: any other type is a mistake or a probe (and a
        form's body is parsed by Odoo before the controller, and so lost to
        the signature check, which would wrongly say the signature is bad)."""
        mimetype = httprequest.mimetype
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise WebhookRefused(
                415, "Unsupported Media Type", "The body must be application/json."
            )

    @staticmethod
    def _read_body(httprequest):
        length = httprequest.content_length
        if length is not None and length > MAX_BODY_BYTES:
            raise WebhookRefused(413, "Content Too Large", "The body is too large.")
        # a body without Content-Length (chunked) is cut by Werkzeug at the limit
        httprequest.max_content_length = MAX_BODY_BYTES
        try:
            raw_body = httprequest.get_data(cache=False)
        except RequestEntityTooLarge:
            raise WebhookRefused(
                413, "Content Too Large", "The body is too large."
            ) from None
        if len(raw_body) > MAX_BODY_BYTES:
            raise WebhookRefused(413, "Content Too Large", "The body is too large.")
        return raw_body
