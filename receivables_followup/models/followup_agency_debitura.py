import json
from datetime import UTC, datetime, timedelta

from odoo import _, fields, models

from ..services import agency_errors
from ..services.agency_errors import AgencyError
from ..services.debitura import const, payloads, webhooks
from ..services.debitura.client import DebituraClient

DEBITURA = "debitura"
#: the preview is the one call a user waits for
PREVIEW_TIMEOUT = (3, 8)
#: changes read again at each poll, for those committed at the agency out of order
POLL_OVERLAP = timedelta(minutes=10)
#: a safety stop: 100,000 changed cases in one poll is not a poll
POLL_MAX_PAGES = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FollowupAgency(models.Model):
    _inherit = "followup.agency"

    code = fields.Selection(
        selection_add=[(DEBITURA, "Debitura (Customer API v1)")],
        ondelete={DEBITURA: "set default"},
    )

    def _debitura_client(self, timeout=None):
        agency = self.sudo()
        if not timeout and agency.request_timeout > 0:
            read = agency.request_timeout
            timeout = (min(const.DEFAULT_TIMEOUT[0], read), read)
        return DebituraClient(
            agency.base_url or const.DEFAULT_BASE_URL,
            agency.api_key,
            timeout=timeout or const.DEFAULT_TIMEOUT,
        )

    def _agency_is_connected(self):
        if self.code != DEBITURA:
            return super()._agency_is_connected()
        return True

    def _agency_check_connection(self):
        if self.code != DEBITURA:
            return super()._agency_check_connection()
        with self._debitura_client() as client:
            me = client.me() or {}
        return _(
            "Connected to Debitura as %(company)s (%(email)s).",
            company=me.get("companyName") or "?",
            email=me.get("officeEmail") or "?",
        )

    def _agency_preview(self, claims, timeout=None):
        if self.code != DEBITURA:
            return super()._agency_preview(claims, timeout=timeout)
        with self._debitura_client(timeout=timeout or PREVIEW_TIMEOUT) as client:
            return [
                payloads.parse_preview(
                    client.preview_case(payloads.preview_body(claim)),
                    claim_total=claim.total,
                )
                for claim in claims
            ]

    def _agency_execute(self, request, documents=None):
        if self.code != DEBITURA:
            return super()._agency_execute(request, documents=documents)
        case = request.case_id
        with self._debitura_client() as client:
            if request.kind == "create":
                return self._debitura_create(client, request, case)
            if not case.agency_case_id:
                raise AgencyError(
                    agency_errors.NOT_FOUND,
                    _("The case is not created at the agency yet."),
                )
            if request.kind == "upload":
                return self._debitura_upload(client, request, case, documents or {})
            if request.kind == "message":
                client.send_chat(
                    case.agency_case_id,
                    request.message,
                    user_email=self.sudo().agency_user_email,
                )
                return {}
            if request.kind == "refresh":
                dto = client.get_case(case.agency_case_id)
                return {"agency_case": payloads.parse_case(dto)}
        raise AgencyError(
            agency_errors.VALIDATION, _("Unknown request %s.", request.kind)
        )

    def _debitura_create(self, client, request, case):
        body = payloads.case_body(case._agency_claim())
        try:
            dto = client.create_case(body, request.idempotency_key)
        except AgencyError as error:
            # The case exists already: an answer lost after the agency created
            # it, retried after its idempotency record expired.
            if error.error_type != "DuplicateCreditorReference":
                raise
            dto = client.find_case_by_creditor_reference(case.creditor_reference)
            if not dto:
                raise
        return {"agency_case": payloads.parse_case(dto)}

    def _debitura_upload(self, client, request, case, documents):
        move = request.move_id
        content, extension = documents.get(move.id) or (None, None)
        if extension != "pdf":
            raise AgencyError(
                agency_errors.VALIDATION,
                _(
                    "The PDF of %s could not be rendered (is wkhtmltopdf installed?).",
                    move.name,
                ),
            )
        filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in move.name)
        client.upload_file(
            case.agency_case_id,
            f"{filename}.pdf",
            content,
            description=_("Invoice %s", move.name),
            document_type="OriginalInvoice",
            idempotency_key=request.idempotency_key,
        )
        return {}

    def _agency_poll_changes(self, since):
        if self.code != DEBITURA:
            return super()._agency_poll_changes(since)
        threshold = None
        if since:
            threshold = since.replace(tzinfo=UTC) - POLL_OVERLAP
        changes = []
        with self._debitura_client() as client:
            for page in range(1, POLL_MAX_PAGES + 1):
                answer = client.list_cases(page=page, sort="DateUpdated:desc") or {}
                cases = [payloads.parse_case(dto) for dto in answer.get("cases") or []]
                fresh = [
                    case
                    for case in cases
                    if not threshold
                    or not case.updated_at
                    or case.updated_at >= threshold
                ]
                changes.extend(fresh)
                if len(fresh) < len(cases) or len(cases) < const.PAGE_SIZE:
                    break
        changes.sort(key=lambda case: case.updated_at or _EPOCH)
        return changes

    # ------------------------------------------------------------------
    # callbacks
    # ------------------------------------------------------------------
    def _agency_webhook_event(self, headers, raw_body):
        if self.code != DEBITURA:
            return super()._agency_webhook_event(headers, raw_body)
        agency = self.sudo()
        webhooks.verify(
            headers.get(webhooks.SIGNATURE_HEADER),
            raw_body,
            [agency.webhook_secret, agency.webhook_secret_previous],
        )
        return webhooks.parse_event(raw_body, headers.get(webhooks.EVENT_HEADER))

    def _agency_process_event(self, event):
        """Debitura's events are thin: read the case (and its payments) back
        from the agency, so that the order of the events does not matter."""
        if self.code != DEBITURA:
            return super()._agency_process_event(event)
        data = json.loads(event.payload).get("data") or {}
        case = self.env["followup.agency.case"]._find_agency_case(
            self, data.get("caseId"), data.get("creditorReference")
        )
        if not case:
            return case
        if event.event_type == "chat.created":
            case._receive_agency_message(data)
            return case
        with self._debitura_client() as client:
            agency_case_id = case.agency_case_id or data.get("caseId")
            change = payloads.parse_case(client.get_case(agency_case_id))
            payments = _payments(client, agency_case_id)
        # the money first: a case closed paid finds its invoices reconciled
        case._sync_agency_payments(payments)
        case._apply_agency_case(change)
        return case

    def _agency_missing_details(self, case):
        if self.code != DEBITURA:
            return super()._agency_missing_details(case)
        with self._debitura_client() as client:
            validation = client.case_validation(case.agency_case_id) or {}
        return [
            " ".join(
                filter(None, (item.get("resolutionArea"), item.get("description")))
            )
            for item in validation.get("items") or []
            if isinstance(item, dict)
        ]

    def _agency_fetch_payments(self, case):
        if self.code != DEBITURA:
            return super()._agency_fetch_payments(case)
        with self._debitura_client() as client:
            return _payments(client, case.agency_case_id)


def _payments(client, agency_case_id):
    return [
        payloads.parse_payment(dto)
        for dto in client.case_payments(agency_case_id) or []
    ]
