"""Request parsing and the spec's response shapes.

Errors follow the spec's bodies: ``ApiErrorResponseDto`` (``error``, ``message``,
``businessErrors``) for 400/401/404/409/429/5xx, ``BusinessErrorResponseApiDTO``
(``businessErrors`` + ``signingHandoff``) for the 422 of ``POST /cases``, and
``ProblemDetails`` for the errors of ``GET /users``, the one endpoint documenting it.
Field validation errors are an ``ApiErrorResponseDto`` that also carries ``errors``,
the object "with field names as keys and error arrays as values" the create
endpoint's description promises, so a client can read either.
"""

import json
import uuid
from decimal import Decimal

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from .store import dumps

JSON_TYPES = ("application/json", "text/json", "application/json-patch+json")
# ``ProblemDetails.type`` of the statuses ASP.NET describes (RFC 9110 sections).
PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}


class HttpError(Exception):
    """Raised by handlers to answer with a ready response."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def json_response(status, payload, headers=None):
    """A JSON response with a body serialised once (replays reuse the bytes)."""
    body = b"" if payload is None else dumps(payload).encode("utf-8")
    response = Response(body, status=status, headers=headers)
    if payload is not None:
        response.content_type = "application/json; charset=utf-8"
    return response


def business_error_item(kind, message, solution_url=None):
    """One ``BusinessErrorApiDTO``."""
    return {"type": kind, "message": message, "solutionUrl": solution_url}


def api_error(status, error, message, kind=None, headers=None, **extra):
    """An ``ApiErrorResponseDto`` response; ``kind`` fills ``businessErrors``."""
    payload = {
        "error": error,
        "message": message,
        "businessErrors": [business_error_item(kind or error, message)],
        **extra,
    }
    return json_response(status, payload, headers)


def validation_error(errors):
    """400 with the field errors, keyed ``Debtor.Name`` / ``ClaimLines[2].DueDate``."""
    items = [
        business_error_item("ValidationError", f"{key}: {message}")
        for key, messages in errors.items()
        for message in messages
    ]
    payload = {
        "error": "ValidationError",
        "message": "One or more validation errors occurred.",
        "businessErrors": items,
        "errors": errors,
    }
    return json_response(400, payload)


def business_error(items, combined_signing_url=None):
    """422 ``BusinessErrorResponseApiDTO``."""
    handoff = {"combinedSigningUrl": combined_signing_url}
    payload = {"businessErrors": items, "signingHandoff": handoff}
    return json_response(422, payload)


def not_found(what="Resource"):
    """404 ``ApiErrorResponseDto``."""
    return api_error(404, "NotFound", f"{what} not found.")


def problem_details(response, instance):
    """The ``ProblemDetails`` form of an ``ApiErrorResponseDto`` error response.

    ``GET /users`` documents its 400, 401 and 500 with this shape (``type``,
    ``title``, ``status``, ``detail``, ``instance``); field errors stay in
    ``errors``, as ASP.NET's ``ValidationProblemDetails`` has them.
    """
    try:
        payload = json.loads(response.get_data())
    except ValueError:
        payload = {}
    status = response.status_code
    problem = {
        "type": PROBLEM_TYPES.get(status, "about:blank"),
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": payload.get("message"),
        "instance": instance,
    }
    if payload.get("errors"):
        problem["errors"] = payload["errors"]
    headers = {k: v for k, v in response.headers.items() if k == "Retry-After"}
    return json_response(status, problem, headers)


def read_json(request):
    """Parse a JSON request body (numbers as Decimal); raise HttpError on failure.

    A body sent with a non-JSON content type is a 415, as ASP.NET answers; an
    unparsable body is a 400 keyed ``$``.
    """
    mimetype = request.mimetype or ""
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise HttpError(
            api_error(415, "UnsupportedMediaType", "Send the body as application/json.")
        )
    try:
        return json.loads(request.get_data(), parse_float=Decimal)
    except ValueError:
        raise HttpError(
            validation_error({"$": ["The request body is not valid JSON."]})
        ) from None


def plain(value):
    """JSON-ready copy of a parsed body (Decimals become floats)."""
    return json.loads(dumps(_floats(value)))


def _floats(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats(item) for item in value]
    return value


def query_values(request, name):
    """Values of a query parameter matched case-insensitively, comma lists split."""
    values = []
    for key, value in request.args.items(multi=True):
        if key.lower() == name.lower():
            values += [part.strip() for part in value.split(",") if part.strip()]
    return values


def query_int(request, name, default, minimum=1, maximum=None):
    """An integer query parameter; raise HttpError (400) when out of range."""
    values = query_values(request, name)
    if not values:
        return default
    try:
        number = int(values[-1])
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum and number > maximum):
        bound = f" and {maximum}" if maximum else ""
        raise HttpError(
            validation_error({name: [f"{name} must be between {minimum}{bound}."]})
        )
    return number


def guid(value, key="id"):
    """Canonical GUID text of ``value``; raise HttpError (400) if it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise HttpError(
            validation_error({key: [f"'{value}' is not a valid GUID."]})
        ) from None


def cents(amount):
    """Cents to the API's decimal number."""
    return round(amount / 100, 2)


def page_data(total, page, size, count):
    """``PageData`` (plus the ``skipped`` the list endpoints' descriptions mention)."""
    return {
        "totalResults": total,
        "pageSize": size,
        "currentPage": page,
        "responseCount": count,
        "totalPages": (total + size - 1) // size if size else 0,
        "skipped": (page - 1) * size,
    }
