"""HTTP client of Debitura's Customer API v1.

One ``requests.Session``; every call returns the parsed JSON answer or raises an
:class:`~..agency_errors.AgencyError` whose ``kind`` tells the outbox what to do.
The API key travels in the ``XApiKey`` header only: it is never logged, never put
in an error message, and redirects are not followed (``requests`` would forward a
custom header to whatever host a redirect names).
"""

import logging
import mimetypes
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import requests
import urllib3

from .. import agency_errors as errors
from ..agency_errors import AgencyError
from . import const

_logger = logging.getLogger(__name__)

#: methods that change something at the agency: a lost answer may hide a change
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class DebituraClient:
    """Calls of the Customer API an ERP connector needs.

    :param base_url: e.g. ``https://customer-api.debitura.com``
    :param api_key: the creditor's API key
    :param timeout: ``(connect, read)`` seconds, or one number for both
    :param session: a ``requests.Session`` to reuse (closed by its owner)
    """

    def __init__(self, base_url, api_key, timeout=const.DEFAULT_TIMEOUT, session=None):
        self.base_url = (base_url or const.DEFAULT_BASE_URL).rstrip("/")
        self._api_key = api_key or ""
        self.timeout = timeout
        self._own_session = session is None
        self.session = session or requests.Session()

    def __repr__(self):
        # never the key
        return f"<DebituraClient {self.base_url}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._own_session:
            self.session.close()

    # ------------------------------------------------------------------
    # endpoints
    # ------------------------------------------------------------------
    def me(self):
        """``GET /me``: the creditor the key belongs to (``CreditorMeApiDTO``)."""
        return self._call("GET", "/me")

    def preview_case(self, body, timeout=None):
        """``POST /cases/preview``: eligibility, partner, required actions and
        pricing of a claim, without creating it (``PreviewCaseResponseApiViewModel``).
        Build ``body`` with ``payloads.preview_body``."""
        return self._call("POST", "/cases/preview", json=body, timeout=timeout)

    def create_case(self, body, idempotency_key):
        """``POST /cases`` (``InvoiceDto``). The agency replays its first answer to
        the same key and body, so a retry after a lost answer creates nothing."""
        key = _checked_idempotency_key(idempotency_key)
        return self._call(
            "POST", "/cases", json=body, headers={const.IDEMPOTENCY_HEADER: key}
        )

    def get_case(self, case_id):
        """``GET /cases/{id}`` (``InvoiceDto``)."""
        return self._call("GET", f"/cases/{_segment(case_id)}")

    def find_case_by_creditor_reference(self, ref):
        """``GET /cases/by-creditor-reference/{ref}``: the case, or None if the
        agency has none (how a create whose answer was lost is found again)."""
        try:
            return self._call("GET", f"/cases/by-creditor-reference/{_segment(ref)}")
        except AgencyError as error:
            if error.kind == errors.NOT_FOUND:
                return None
            raise

    def list_cases(
        self,
        page=1,
        page_size=const.PAGE_SIZE,
        sort=const.SORT_BY_UPDATE,
        statuses=None,
        ids=None,
    ):
        """``GET /cases`` (``InvoiceListDto``: ``page`` and ``cases``).

        :param statuses: lifecycle names or labels
        :param ids: case ids
        """
        params = {"Page": page, "PageSize": page_size}
        if sort:
            params["Sort"] = sort
        if statuses:
            params["Statuses"] = ",".join(statuses)
        if ids:
            params["Ids"] = ",".join(ids)
        return self._call("GET", "/cases", params=params)

    def case_validation(self, case_id):
        """``GET /cases/{id}/validation``: what the collection firm asks for
        (``needsInfo`` and ``items`` of ``resolutionArea``/``description``)."""
        return self._call("GET", f"/cases/{_segment(case_id)}/validation")

    def case_payments(self, case_id):
        """``GET /cases/{id}/payments``: list of ``PaymentDto``."""
        return self._call("GET", f"/cases/{_segment(case_id)}/payments")

    def upload_file(
        self,
        case_id,
        filename,
        content_bytes,
        description=None,
        document_type=None,
        idempotency_key=None,
    ):
        """``POST /cases/{id}/files`` as multipart ``File`` (+ ``Description``,
        ``DocumentType``); returns the ``CaseFileDto``.

        The spec documents ``Idempotency-Key`` on ``POST /cases`` only: the header
        is sent when given, but the agency may ignore it, so a retried upload can
        store the file twice.
        """
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        fields = {}
        if description:
            fields[const.FILE_DESCRIPTION_FIELD] = description
        if document_type:
            fields[const.FILE_DOCUMENT_TYPE_FIELD] = document_type
        headers = {}
        if idempotency_key:
            key = _checked_idempotency_key(idempotency_key)
            headers[const.IDEMPOTENCY_HEADER] = key
        return self._call(
            "POST",
            f"/cases/{_segment(case_id)}/files",
            data=fields,
            files={const.FILE_FIELD: (filename, content_bytes, content_type)},
            headers=headers,
        )

    def send_chat(self, case_id, message, user_email=None):
        """``POST /cases/{id}/chats`` (``SendChatRequest``); returns the ``ChatDto``.

        :param user_email: the team member the message is signed with; the agency
            requires one (``userEmail`` or the deprecated ``userId``)
        """
        body = {"message": message}
        if user_email:
            body["userEmail"] = user_email
        return self._call("POST", f"/cases/{_segment(case_id)}/chats", json=body)

    # ------------------------------------------------------------------
    # transport
    # ------------------------------------------------------------------
    def _call(self, method, path, headers=None, timeout=None, **kwargs):
        request_headers = {"Accept": "application/json", **(headers or {})}
        request_headers[const.API_KEY_HEADER] = self._api_key
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                headers=request_headers,
                timeout=timeout or self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            error = network_error(exc, method)
            self._log(method, path, type(exc).__name__, started, logging.INFO)
            raise self._scrubbed(error) from None
        success = 200 <= response.status_code < 300
        level = logging.DEBUG if success else logging.INFO
        self._log(method, path, response.status_code, started, level)
        if success:
            return self._json(response, method)
        raise self._scrubbed(http_error(response, method))

    def _json(self, response, method):
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise AgencyError(
                errors.TRANSIENT,
                "The agency answered with something that is not JSON.",
                status=response.status_code,
                maybe_delivered=method in _WRITES,
            ) from None

    def _scrubbed(self, error):
        """The agency's words may echo the request; a key must never come out."""
        if self._api_key and self._api_key in (error.message or ""):
            error.message = error.message.replace(self._api_key, "***")
            error.args = (error.message,)
        return error

    @staticmethod
    def _log(method, path, status, started, level=logging.DEBUG):
        # method, path, status and duration only: headers carry the key, bodies
        # carry debtors' personal data
        _logger.log(
            level,
            "Debitura %s %s -> %s in %.0f ms",
            method,
            path,
            status,
            (time.monotonic() - started) * 1000,
        )


# ----------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------
#: a URL nobody can call: retrying will not help, the configuration must change
_BAD_URL = (
    requests.exceptions.InvalidURL
    | requests.exceptions.MissingSchema
    | requests.exceptions.InvalidSchema
)


def network_error(exc, method):
    """The :class:`AgencyError` for a request that got no HTTP answer."""
    if isinstance(exc, _BAD_URL):
        return AgencyError(errors.VALIDATION, "The agency's URL is not valid.")
    sent = not _never_sent(exc)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        message = "The agency did not answer in time."
    elif sent:
        message = "The connection to the agency broke before it answered."
    else:
        message = "The agency could not be reached."
    return AgencyError(
        errors.TRANSIENT, message, maybe_delivered=sent and method in _WRITES
    )


def _never_sent(exc):
    """True when the connection failed before the request could leave: then
    retrying cannot make anything happen twice."""
    if isinstance(
        exc,
        requests.exceptions.ConnectTimeout
        | requests.exceptions.SSLError
        | requests.exceptions.ProxyError,
    ):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        cause = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(cause, urllib3.exceptions.NewConnectionError)
    return False


def http_error(response, method):
    """The :class:`AgencyError` for a non-2xx answer."""
    status = response.status_code
    body = _body(response)
    error_type = _error_type(body)
    message = _message(body) or f"The agency answered HTTP {status}."
    kind, extra = errors.VALIDATION, {}
    if status in (400, 413, 415):
        extra["field_errors"] = field_errors(body)
        message = _with_fields(message, extra["field_errors"])
    elif status in (401, 403):
        kind = errors.AUTH
    elif status == 404:
        kind = errors.NOT_FOUND
    elif status == 422:
        is_conflict = error_type == const.IDEMPOTENCY_CONFLICT
        kind = errors.CONFLICT if is_conflict else errors.BUSINESS
    elif status == 429:
        kind = errors.RATE_LIMITED
    elif status == 409 or status == 408 or status >= 500:
        # 409: an earlier request with the same idempotency key is still running
        kind = errors.TRANSIENT
        extra["maybe_delivered"] = method in _WRITES and status != 408
    elif 300 <= status < 400:
        message = f"The agency redirected the request (HTTP {status}): check its URL."
    if kind in (errors.RATE_LIMITED, errors.TRANSIENT):
        extra["retry_after"] = _retry_after(response, body)
    return AgencyError(kind, message, status=status, error_type=error_type, **extra)


def _retry_after(response, body):
    """The ``Retry-After`` header, else a ``retryAfter`` in the error body."""
    in_body = body.get("retryAfter") if isinstance(body, dict) else None
    return parse_retry_after(response.headers.get("Retry-After")) or _seconds(in_body)


def _body(response):
    try:
        return response.json()
    except ValueError:
        return None


def _first_business_error(body):
    items = body.get("businessErrors") if isinstance(body, dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return {}


def _error_type(body):
    """``businessErrors[0].type``, else ``ApiErrorResponseDto.error``."""
    first = _first_business_error(body)
    if first.get("type"):
        return str(first["type"])
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return None


def _message(body):
    """The agency's human sentence from either error shape of the spec
    (``ApiErrorResponseDto.message``, the ``BusinessErrorApiDTO`` messages of a
    422) or an ASP.NET ``ProblemDetails``."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("message"), str) and body["message"]:
        return body["message"]
    items = body.get("businessErrors")
    texts = [
        item["message"]
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("message"), str)
    ]
    if texts:
        return " ".join(dict.fromkeys(texts))
    candidates = (body.get("detail"), body.get("title"))
    return next((text for text in candidates if isinstance(text, str) and text), None)


def _with_fields(message, found, shown=5):
    """Name the refused fields in the message: it is what a log reader needs."""
    details = [f"{field}: {' '.join(texts)}" for field, texts in found.items()]
    if not details:
        return message
    more = f" (and {len(details) - shown} more)" if len(details) > shown else ""
    return f"{message} {'; '.join(details[:shown])}{more}"


def field_errors(body):
    """``{"Debtor.Name": ["..."]}`` from a 400 body.

    The spec promises "a JSON object with field names as keys and error arrays as
    values": read as ``errors`` of the ``ApiErrorResponseDto`` (or of an ASP.NET
    ``ValidationProblemDetails``), or as the whole body when it has that shape.
    """
    if not isinstance(body, dict):
        return {}
    source = body.get("errors") if isinstance(body.get("errors"), dict) else body
    found = {}
    for field, messages in source.items():
        if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
            found[str(field)] = list(messages)
        elif isinstance(messages, str) and source is not body:
            found[str(field)] = [messages]
    return found


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date),
    or None when absent or unreadable."""
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _seconds(value):
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 and seconds == seconds else None  # not NaN


def _segment(value):
    """One path segment, escaped: creditor references may hold ``/`` or spaces."""
    text = "" if value is None else str(value)
    if not text.strip():
        raise AgencyError(errors.VALIDATION, "A case id or reference is missing.")
    return quote(text, safe="")


def _checked_idempotency_key(key):
    text = str(key or "")
    if not text.strip() or len(text) > const.MAX_IDEMPOTENCY_KEY:
        raise AgencyError(
            errors.VALIDATION,
            f"An idempotency key must be 1 to {const.MAX_IDEMPOTENCY_KEY} "
            "characters and not blank.",
        )
    return text
