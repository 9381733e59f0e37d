"""Customer API: webhook subscriptions, the delivery event log, replays, test sends.

The spec requires HTTPS, publicly reachable subscription URLs; a sandbox delivers to
loopback receivers, so plain ``http://`` and private hosts are accepted unless the
``strict_webhook_urls`` setting is on. The secret is returned on creation and on
``regenerateSecret`` only; during ``secret_rotation_grace_seconds`` after a
regeneration deliveries are signed with both the new and the previous secret.
"""

import ipaddress
import time
import uuid
from urllib.parse import urlsplit

import requests

from . import delivery, dto, events
from .http import (
    HttpError,
    api_error,
    guid,
    json_response,
    not_found,
    query_values,
    read_json,
    validation_error,
)
from .reference import WEBHOOK_EVENTS
from .signatures import new_secret
from .store import dumps, load_doc
from .validation import insensitive, parse_day


def load_subscription(db, sub_id):
    """The subscription with ``sub_id``; raise HttpError 400/404."""
    row = db.execute(
        "SELECT doc FROM webhooks WHERE id = ?", (guid(sub_id),)
    ).fetchone()
    if row is None:
        raise HttpError(not_found("Webhook"))
    return load_doc(row)


def save_subscription(db, sub):
    """Insert or replace a subscription document."""
    db.execute(
        "INSERT OR REPLACE INTO webhooks (id, doc) VALUES (?, ?)",
        (sub["id"], dumps(sub)),
    )


def check_url(url, strict, errors):
    """Validate a subscription URL into ``errors['Url']``; return it or None."""
    if not isinstance(url, str) or not url.strip():
        errors["Url"] = ["The Url field is required."]
        return None
    parts = urlsplit(url.strip())
    if len(url) > 1024 or parts.scheme not in ("http", "https") or not parts.hostname:
        errors["Url"] = [
            "Url must be an absolute http(s) URL of at most 1024 characters."
        ]
        return None
    if strict and (parts.scheme != "https" or _private(parts.hostname)):
        errors["Url"] = ["Url must be HTTPS and publicly reachable."]
        return None
    return url.strip()


def _private(host):
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def check_events(values, errors):
    """Validate the event list into ``errors['Events']``; return it de-duplicated."""
    if not isinstance(values, list) or not values:
        errors["Events"] = ["At least one event type is required."]
        return []
    unknown = [v for v in values if v not in WEBHOOK_EVENTS]
    if unknown:
        errors["Events"] = [
            f"Unknown event type(s): {', '.join(map(str, unknown))}. Valid: "
            + ", ".join(WEBHOOK_EVENTS)
        ]
    return list(dict.fromkeys(v for v in values if v in WEBHOOK_EVENTS))


def create_webhook(sb, request):
    """``POST /webhooks``: 201 with the secret (shown this once)."""
    body = insensitive(read_json(request)) or {}
    errors = {}
    with sb.store.tx() as db:
        strict = sb.settings(db)["strict_webhook_urls"]
        url = check_url(body.get("url"), strict, errors)
        kinds = check_events(body.get("events"), errors)
        test_mode = body.get("istestmode", False)
        if not isinstance(test_mode, bool):
            errors["IsTestMode"] = ["The IsTestMode field must be a boolean."]
        if errors:
            return validation_error(errors)
        now = sb.clock.stamp()
        sub = {
            "id": str(uuid.uuid4()),
            "url": url,
            "events": kinds,
            "isActive": True,
            "createdUtc": now,
            "updatedUtc": now,
            "disabledReason": None,
            "secret": new_secret(),
            "previousSecret": None,
            "previousSecretUntil": None,
            "isTestMode": test_mode,
        }
        save_subscription(db, sub)
    return json_response(201, dto.webhook_dto(sub, with_secret=True))


def list_webhooks(sb, request):
    """``GET /webhooks`` (secrets never included)."""
    with sb.store.tx() as db:
        rows = db.execute("SELECT doc FROM webhooks ORDER BY rowid").fetchall()
    return json_response(200, [dto.webhook_dto(load_doc(row)) for row in rows])


def get_webhook(sb, request, sub_id):
    """``GET /webhooks/{id}``."""
    with sb.store.tx() as db:
        return json_response(200, dto.webhook_dto(load_subscription(db, sub_id)))


def update_webhook(sb, request, sub_id):
    """``PATCH /webhooks/{id}``: url, isActive, isTestMode, regenerateSecret."""
    body = insensitive(read_json(request)) or {}
    errors = {}
    with sb.store.tx() as db:
        sub = load_subscription(db, sub_id)
        settings = sb.settings(db)
        if body.get("url") is not None:
            sub["url"] = check_url(body["url"], settings["strict_webhook_urls"], errors)
        if body.get("events") is not None and body["events"] != sub["events"]:
            errors["Events"] = [
                "Event types cannot be changed after creation; delete and recreate "
                "the subscription."
            ]
        for name, key in (("isactive", "isActive"), ("istestmode", "isTestMode")):
            if body.get(name) is not None:
                if not isinstance(body[name], bool):
                    errors[key[0].upper() + key[1:]] = [f"{key} must be a boolean."]
                else:
                    sub[key] = body[name]
        if errors:
            return validation_error(errors)
        if body.get("isactive") is True:
            sub["disabledReason"] = None
        regenerate = body.get("regeneratesecret") is True
        if regenerate:
            grace = settings["secret_rotation_grace_seconds"]
            sub["previousSecret"] = sub["secret"] if grace else None
            sub["previousSecretUntil"] = time.time() + grace if grace else None
            sub["secret"] = new_secret()
        sub["updatedUtc"] = sb.clock.stamp()
        save_subscription(db, sub)
    sb.notify()
    return json_response(200, dto.webhook_dto(sub, with_secret=regenerate))


def delete_webhook(sb, request, sub_id):
    """``DELETE /webhooks/{id}``: 204; its undelivered events are abandoned."""
    with sb.store.tx() as db:
        sub = load_subscription(db, sub_id)
        db.execute("DELETE FROM webhooks WHERE id = ?", (sub["id"],))
        db.execute(
            "UPDATE webhook_events SET state = 'failed', last_error = "
            "'Subscription deleted' WHERE subscription_id = ? AND state = 'pending'",
            (sub["id"],),
        )
    return json_response(204, None)


def test_webhook(sb, request, sub_id):
    """``POST /webhooks/{id}/test``: send a synthetic ``case.created`` now."""
    with sb.store.tx() as db:
        sub = load_subscription(db, sub_id)
        timeout = sb.settings(db)["webhook_timeout"]
    payload = _synthetic_case_created(sb)
    record = {"payload": dumps(payload), "event_type": "case.created"}
    session = requests.Session()
    session.trust_env = False
    status, error, duration, _ = delivery.post(
        session, sub, record, timeout, {"X-Debitura-Test": "true"}
    )
    category = None
    if error:
        category = "HttpError" if status else "TimeoutError"
        if not status and not error.startswith("Request timed out"):
            category = "NetworkError"
    result = {
        "success": error is None,
        "httpStatusCode": status,
        "durationMs": duration,
        "errorMessage": error,
        "errorCategory": category,
        "testPayload": payload,
    }
    return json_response(200, result)


def _synthetic_case_created(sb):
    case = {
        "id": str(uuid.uuid4()),
        "isTest": True,
        "reference": "TEST0000",
        "creditorReference": "TEST-INVOICE-001",
        "lifecycle": "PendingVerificationInternal",
        "grossCents": 100000,
        "outstanding": {"principal": 100000},
        "currency": "EUR",
        "values": {"debtor": {"name": "Test Debtor ApS"}},
        "dateUpdated": sb.clock.stamp(),
    }
    stamp = sb.clock.stamp()
    data = events.case_data(case)
    return events.envelope(
        str(uuid.uuid4()), "case.created", stamp, case, data, sb.base_url
    )


def replay_since(sb, request, sub_id):
    """Deprecated ``POST /webhooks/{id}/replay``: counts cases since ``sinceUtc``."""
    body = insensitive(read_json(request)) or {}
    since = body.get("sinceutc")
    if parse_day(since) is None:
        return validation_error(
            {"SinceUtc": ["SinceUtc must be an ISO 8601 date-time."]}
        )
    with sb.store.tx() as db:
        load_subscription(db, sub_id)
        count = db.execute(
            "SELECT COUNT(*) FROM cases WHERE date_created >= ?", (_stamp(since),)
        ).fetchone()[0]
    return json_response(200, {"eventsReplayed": count})


def _stamp(text):
    """Comparable stored-timestamp text for an ISO date or date-time."""
    return text.strip().replace("+00:00", "Z")


def list_events(sb, request):
    """``GET /webhooks/events?caseId=...&since=...``: newest first."""
    case_ids = query_values(request, "caseId")
    if not case_ids:
        return validation_error({"caseId": ["The caseId query parameter is required."]})
    query = "SELECT * FROM webhook_events WHERE case_id = ?"
    args = [guid(case_ids[0], "caseId")]
    since = query_values(request, "since")
    if since:
        if parse_day(since[0]) is None:
            return validation_error({"since": ["since must be an ISO 8601 date-time."]})
        query, args = query + " AND created_at >= ?", [*args, _stamp(since[0])]
    with sb.store.tx() as db:
        rows = db.execute(query + " ORDER BY rowid DESC", args).fetchall()
    return json_response(200, [dto.event_dto(row) for row in rows])


def replay_event(sb, request, event_id):
    """``POST /webhooks/events/{id}/replay``: the same payload again, as attempt 1."""
    with sb.store.tx() as db:
        row = db.execute(
            "SELECT * FROM webhook_events WHERE id = ?", (guid(event_id),)
        ).fetchone()
        if row is None:
            return api_error(404, "NotFound", "Event not found.")
        db.execute(
            "INSERT INTO webhook_events (id, event_id, subscription_id, case_id, "
            "event_type, payload, state, created_at, next_attempt_at, replay) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, 0, 1)",
            (
                str(uuid.uuid4()),
                row["event_id"],
                row["subscription_id"],
                row["case_id"],
                row["event_type"],
                row["payload"],
                sb.clock.stamp(),
            ),
        )
    sb.notify()
    result = {
        "eventId": row["id"],
        "subscriptionId": row["subscription_id"],
        "eventType": row["event_type"],
    }
    return json_response(200, result)


def colon_action(sb, request, sub_id, action):
    """``POST /webhooks/{id}:test`` and ``:replay``, the spec's aliases."""
    handlers = {"test": test_webhook, "replay": replay_since}
    if action not in handlers:
        return api_error(404, "NotFound", f"No route for {request.path}.")
    return handlers[action](sb, request, sub_id)


ROUTES = [
    ("/webhooks", ["POST"], create_webhook),
    ("/webhooks", ["GET"], list_webhooks),
    ("/webhooks/events", ["GET"], list_events),
    ("/webhooks/events/<event_id>/replay", ["POST"], replay_event),
    ("/webhooks/<sub_id>", ["GET"], get_webhook),
    ("/webhooks/<sub_id>", ["PATCH"], update_webhook),
    ("/webhooks/<sub_id>", ["DELETE"], delete_webhook),
    ("/webhooks/<sub_id>/test", ["POST"], test_webhook),
    ("/webhooks/<sub_id>/replay", ["POST"], replay_since),
    ("/webhooks/<sub_id>:<action>", ["POST"], colon_action),
]
