"""``Idempotency-Key`` on ``POST /cases``, as the spec describes it.

A key is reserved before the request is processed. The same key with an identical body
gets the first *terminal* response replayed verbatim (status and body bytes); with a
different body it gets a 422 ``IdempotencyConflict``; while the first request is still
running it gets a 409. Field validation errors (400) and server errors (5xx) are not
terminal (nor is a 415): the reservation is dropped so the client can fix the
request, or retry, with the same key. Keys are kept for ``idempotency_ttl_seconds``
(24 h by default).

Keys are scoped to the API key, the method and the path. "Identical body" means the
same JSON document: key order, whitespace and ``10.5`` vs ``10.50`` do not matter.
"""

import hashlib
import json
from decimal import Decimal

MAX_KEY_LENGTH = 255


def fingerprint(raw_body):
    """SHA-256 of the body's canonical JSON (of the raw bytes if it is not JSON)."""
    try:
        document = json.loads(raw_body, parse_float=Decimal, parse_int=Decimal)
    except ValueError:
        return hashlib.sha256(raw_body).hexdigest()
    canonical = json.dumps(
        document,
        sort_keys=True,
        separators=(",", ":"),
        default=lambda number: f"#{number.normalize():f}",
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def scope(api_key, method, path):
    """Namespace of a key: who sent it, to which endpoint."""
    owner = hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]
    return f"{owner} {method} {path}"


def reserve(db, key_scope, key, body_fingerprint, now, ttl):
    """Reserve ``key`` or report what to do instead.

    :return: ``("proceed", None)``, ``("replay", row)``, ``("mismatch", row)`` or
        ``("in_flight", row)``
    """
    db.execute(
        "DELETE FROM idempotency WHERE state = 'completed' AND completed_at < ?",
        (now - ttl,),
    )
    row = db.execute(
        "SELECT * FROM idempotency WHERE scope = ? AND key = ?", (key_scope, key)
    ).fetchone()
    if row is None:
        db.execute(
            "INSERT INTO idempotency (scope, key, fingerprint, state, created_at) "
            "VALUES (?, ?, ?, 'in_flight', ?)",
            (key_scope, key, body_fingerprint, now),
        )
        return "proceed", None
    if row["fingerprint"] != body_fingerprint:
        return "mismatch", row
    if row["state"] == "in_flight":
        return "in_flight", row
    return "replay", row


def is_terminal(status):
    """Whether a response settles the key: a success or a business rule (422).

    Field errors (400), an unsupported content type (415) and server errors are not
    the outcome of the request the key stands for, so the key stays reusable.
    """
    return 200 <= status < 300 or status == 422


def complete(db, key_scope, key, status, content_type, body, now):
    """Store a terminal response for replay, or drop the reservation."""
    if not is_terminal(status):
        release(db, key_scope, key)
        return
    db.execute(
        "UPDATE idempotency SET state = 'completed', status = ?, headers = ?, "
        "body = ?, completed_at = ? WHERE scope = ? AND key = ?",
        (status, content_type, body, now, key_scope, key),
    )


def release(db, key_scope, key):
    """Forget a reservation (the request failed before a terminal response)."""
    db.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (key_scope, key))


def records(db):
    """Every stored key, for the control API."""
    rows = db.execute("SELECT * FROM idempotency ORDER BY created_at")
    return [
        {
            "key": row["key"],
            "endpoint": row["scope"].split(" ", 1)[1],
            "state": row["state"],
            "status": row["status"],
            "fingerprint": row["fingerprint"],
            "body": row["body"].decode("utf-8") if row["body"] else None,
            "createdAt": row["created_at"],
            "completedAt": row["completed_at"],
        }
        for row in rows
    ]
