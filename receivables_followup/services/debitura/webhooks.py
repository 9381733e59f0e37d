"""Debitura's webhook deliveries: the signature check and the event's envelope.

``X-Debitura-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``, the hex being
HMAC-SHA256 over ``"{t}.{raw body}"`` keyed with the base64-decoded subscription
secret. The raw bytes are what is signed: the body is checked before anything
parses it. While a secret is rotated, the agency signs with both and we accept
either of ours.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass

from ..agency_errors import WebhookRefused

SIGNATURE_HEADER = "X-Debitura-Signature"
EVENT_HEADER = "X-Debitura-Event"
#: a delivery signed further than this from our clock is refused (replays)
TOLERANCE_SECONDS = 300
#: Debitura's events are thin: a few hundred bytes
MAX_BODY_BYTES = 64 * 1024

EVENT_TYPES = frozenset(
    {
        "case.created",
        "case.updated",
        "case.closed",
        "payment.created",
        "payment.deleted",
        "chat.created",
    }
)


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    case_id: str | None
    creditor_reference: str | None
    data: dict


#: digits of a Unix time in seconds, with room to spare (``isdigit`` alone takes
#: "²" and 5,000 digits, which ``int`` refuses or no clock compares with)
_STAMP = re.compile(r"[0-9]{1,12}")


def _signatures(header):
    """``(timestamp, [v1 signatures])`` of a signature header; the timestamp
    is None when missing, malformed or given twice (which is it?)."""
    stamps, found = [], []
    for part in (header or "").split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t":
            stamps.append(int(value) if _STAMP.fullmatch(value) else None)
        elif name == "v1" and value:
            found.append(value.strip().lower())
    stamp = stamps[0] if len(stamps) == 1 else None
    return stamp, found


def _key(secret):
    try:
        return base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        # a secret stored as plain text still signs, as the agency would use it
        return secret.encode()


def verify(header, raw_body, secrets, now=None, tolerance=TOLERANCE_SECONDS):
    """Check a delivery's signature; raise :class:`WebhookRefused` (401) if it
    does not hold. ``secrets``: the subscription secrets we accept."""
    stamp, candidates = _signatures(header)
    if stamp is None or not candidates:
        raise WebhookRefused(401, "Unauthorized", "Missing or malformed signature.")
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        raise WebhookRefused(
            401, "Unauthorized", "The signature's timestamp is outside the tolerance."
        )
    signed = str(stamp).encode() + b"." + raw_body
    valid = False
    for secret in filter(None, secrets):
        expected = hmac.new(_key(secret), signed, hashlib.sha256).hexdigest()
        for candidate in candidates:
            # compare everything: the time taken tells nothing of which matched
            # as bytes: compare_digest refuses str with non-ASCII characters,
            # which a forged header may hold
            valid |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not valid:
        raise WebhookRefused(401, "Unauthorized", "The signature does not match.")


def parse_event(raw_body, header_type=None):
    """The :class:`Event` of a verified body; raise :class:`WebhookRefused` with
    400 (not JSON) or 422 (JSON that is not an event we know)."""
    try:
        document = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: "[[[[..." nested deeper than the parser goes
        raise WebhookRefused(400, "Bad Request", "The body is not JSON.") from None
    if not isinstance(document, dict):
        raise WebhookRefused(
            422, "Unprocessable Content", "The event is not an object."
        )
    event_type = document.get("event") or header_type
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise WebhookRefused(
            422,
            "Unprocessable Content",
            f"Unknown event type {str(event_type)[:50]!r}.",
        )
    data = document.get("data")
    event_id = document.get("id")
    if not isinstance(data, dict) or not _is_text(event_id):
        raise WebhookRefused(
            422, "Unprocessable Content", "The event has no id or no data."
        )
    case_id = data.get("caseId") or None
    reference = data.get("creditorReference") or None
    if not case_id and not reference:
        raise WebhookRefused(422, "Unprocessable Content", "The event names no case.")
    if not all(_is_text(value) for value in (case_id, reference) if value):
        raise WebhookRefused(
            422, "Unprocessable Content", "The event's case is not named by text."
        )
    return Event(event_id[:100], event_type, case_id, reference, data)


def _is_text(value):
    """Whether ``value`` is text the inbox can store (PostgreSQL's text holds
    no NUL character)."""
    return isinstance(value, str) and bool(value) and "\x00" not in value
