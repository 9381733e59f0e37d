"""Fault injection rules: what goes wrong, on which requests, how often.

A rule names a ``kind`` and what it matches (HTTP ``method`` and ``path`` glob, or the
webhook ``event`` glob) and fires either deterministically (``count``: the next N
matching requests, the default being 1) or at random (``probability``, optionally
with a ``count`` cap; the generator is seeded with ``--seed``). The first live rule
that matches a request fires; a rule whose count reaches zero stays listed with
``remaining: 0`` so a test can check it fired.

HTTP kinds, all applied before the request is processed except the last:
``latency`` (sleep ``seconds`` while the request is in flight, after its idempotency
key is reserved), ``timeout`` (sleep ``seconds``, then close the connection without
processing), ``reset`` (TCP reset, nothing processed), ``status`` (answer ``status``,
5xx by default 503, optional ``retryAfter``), ``rate_limit`` (429 with
``Retry-After``), ``lost_response`` (process the request, then drop the connection).
Webhook kinds: ``webhook_duplicate``, ``webhook_drop``, ``webhook_reorder`` (hold the
delivery until the next one for the same subscription went out).
"""

import fnmatch
import uuid

from .store import dumps, load_doc

HTTP_KINDS = ("latency", "timeout", "reset", "status", "rate_limit", "lost_response")
WEBHOOK_KINDS = ("webhook_duplicate", "webhook_drop", "webhook_reorder")
DEFAULT_SECONDS = {"latency": 1.0, "timeout": 30.0}


class FaultError(ValueError):
    """A rule that cannot be understood."""


def build_rule(spec):
    """Validate a rule as posted to ``/_sandbox/faults``; return the stored form."""
    if not isinstance(spec, dict):
        raise FaultError("A fault rule must be a JSON object.")
    kind = spec.get("kind")
    if kind not in HTTP_KINDS + WEBHOOK_KINDS:
        raise FaultError(f"kind must be one of {list(HTTP_KINDS + WEBHOOK_KINDS)}.")
    probability = spec.get("probability")
    count = spec.get("count", None if probability is not None else 1)
    if count is not None and (not isinstance(count, int) or count < 1):
        raise FaultError("count must be a positive integer or null.")
    if probability is not None and not (
        isinstance(probability, int | float) and 0 < probability <= 1
    ):
        raise FaultError("probability must be a number in (0, 1].")
    rule = {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "method": str(spec.get("method", "*")).upper(),
        "path": str(spec.get("path", "*")),
        "event": str(spec.get("event", "*")),
        "remaining": count,
        "probability": probability,
        "hits": 0,
    }
    rule.update(_parameters(kind, spec))
    return rule


def _parameters(kind, spec):
    params = {}
    if kind in DEFAULT_SECONDS:
        seconds = spec.get("seconds", DEFAULT_SECONDS[kind])
        if not isinstance(seconds, int | float) or seconds < 0:
            raise FaultError("seconds must be a non-negative number.")
        params["seconds"] = seconds
    if kind == "status":
        status = spec.get("status", 503)
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("status must be an HTTP error status (400-599).")
        params["status"] = status
    if kind in ("status", "rate_limit"):
        retry_after = spec.get("retryAfter", 1 if kind == "rate_limit" else None)
        if retry_after is not None and (
            not isinstance(retry_after, int) or retry_after < 0
        ):
            raise FaultError("retryAfter must be a non-negative integer (seconds).")
        params["retryAfter"] = retry_after
    return params


def add(db, rule):
    """Store a built rule."""
    db.execute("INSERT INTO faults (id, doc) VALUES (?, ?)", (rule["id"], dumps(rule)))


def all_rules(db):
    """Every rule, oldest first, including exhausted ones."""
    return [
        load_doc(row) for row in db.execute("SELECT doc FROM faults ORDER BY rowid")
    ]


def take_http_fault(sb, db, method, path):
    """Consume and return the first live HTTP rule matching the request, or None."""
    return _take(sb, db, HTTP_KINDS, lambda r: _http_match(r, method, path))


def take_webhook_fault(sb, db, event_type):
    """Consume and return the first live webhook rule matching the event, or None."""
    return _take(
        sb, db, WEBHOOK_KINDS, lambda r: fnmatch.fnmatchcase(event_type, r["event"])
    )


def _http_match(rule, method, path):
    return rule["method"] in ("*", method) and fnmatch.fnmatchcase(path, rule["path"])


def _take(sb, db, kinds, matches):
    for rule in all_rules(db):
        if rule["kind"] not in kinds or rule["remaining"] == 0 or not matches(rule):
            continue
        if rule["probability"] is not None and sb.rng.random() >= rule["probability"]:
            continue
        if rule["remaining"] is not None:
            rule["remaining"] -= 1
        rule["hits"] += 1
        db.execute("UPDATE faults SET doc = ? WHERE id = ?", (dumps(rule), rule["id"]))
        return rule
    return None
