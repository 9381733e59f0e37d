"""The background thread that delivers webhooks, retries them and gives up.

One worker sends the due delivery records one at a time, oldest first, so a receiver
sees events in the order they happened unless a fault or a retry reorders them. Each
attempt is signed afresh (a retry an hour later must still pass the receiver's 300 s
tolerance) and logged in ``webhook_attempts``. A 2xx is a success; anything else, a
timeout or a connection error schedules the next attempt after
``webhook_retry_delays[attempt - 1]``; after ``webhook_max_attempts`` failures (8) the
record is failed and its subscription disabled. A 410 disables the subscription at
once, as Debitura documents. Records of a disabled subscription wait: they are sent if
the subscription is re-enabled.

No transaction is open while a request is on the wire, so API calls never wait for a
slow receiver.
"""

import threading
import time

import requests

from . import signatures
from .store import dumps, load_doc

USER_AGENT = "Debitura-Webhooks/1.0 (agency_sandbox)"
DUE = (
    "SELECT e.* FROM webhook_events e JOIN webhooks w ON w.id = e.subscription_id "
    "WHERE e.state = 'pending' AND e.next_attempt_at <= ? AND e.hold_until <= ? "
    "AND json_extract(w.doc, '$.isActive') = 1 ORDER BY e.rowid LIMIT 1"
)


def signing_secrets(sub, now):
    """Secrets to sign with: the current one, plus the previous during its grace."""
    found = [sub["secret"]]
    if sub.get("previousSecret") and (sub.get("previousSecretUntil") or 0) > now:
        found.append(sub["previousSecret"])
    return found


def post(session, sub, record, timeout, extra_headers=None):
    """Sign and send one delivery; return ``(status, error, milliseconds, header)``."""
    body = record["payload"].encode("utf-8")
    header = signatures.signature_header(signing_secrets(sub, time.time()), body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Debitura-Event": record["event_type"],
        "X-Debitura-Signature": header,
        "X-Debitura-Timestamp": header.split(",", 1)[0][2:],
        **(extra_headers or {}),
    }
    started = time.monotonic()
    try:
        response = session.post(sub["url"], data=body, headers=headers, timeout=timeout)
    except requests.Timeout:
        return (
            None,
            f"Request timed out after {timeout:g} seconds",
            _ms(started),
            header,
        )
    except requests.RequestException as error:
        return None, f"Network error: {error}", _ms(started), header
    status = response.status_code
    error = None if 200 <= status < 300 else f"HTTP {status}: {response.reason}"
    return status, error, _ms(started), header


def _ms(started):
    return int((time.monotonic() - started) * 1000)


class DeliveryWorker(threading.Thread):
    """Sends due webhook deliveries until stopped."""

    def __init__(self, sb):
        super().__init__(name="agency-sandbox-webhooks", daemon=True)
        self.sb = sb
        self.session = requests.Session()
        # Loopback receivers must not be reached through a proxy from the environment.
        self.session.trust_env = False
        self._stopping = threading.Event()

    def run(self):
        """Deliver until ``stop()``; sleep briefly when nothing is due."""
        while not self._stopping.is_set():
            if not self.step():
                self.sb.wait_for_work(0.05)

    def stop(self, timeout=5):
        """Ask the thread to finish and wait for it."""
        self._stopping.set()
        self.sb.notify()
        if self.is_alive():
            self.join(timeout)

    def step(self):
        """Deliver the oldest due record, if any; return whether one was found."""
        with self.sb.store.tx() as db:
            now = time.time()
            row = db.execute(DUE, (now, now)).fetchone()
            if row is None:
                return False
            record = dict(row)
            sub = load_doc(
                db.execute(
                    "SELECT doc FROM webhooks WHERE id = ?",
                    (record["subscription_id"],),
                ).fetchone()
            )
            settings = self.sb.settings(db)
            db.execute(
                "UPDATE webhook_events SET state = 'delivering' WHERE id = ?",
                (record["id"],),
            )
        extra = {"X-Debitura-Replay": "true"} if record["replay"] else None
        result = post(self.session, sub, record, settings["webhook_timeout"], extra)
        with self.sb.store.tx() as db:
            self._record(db, record, sub["id"], result, settings)
        return True

    def _record(self, db, record, sub_id, result, settings):
        status, error, duration, header = result
        attempt = record["attempt_count"] + 1
        stamp = self.sb.clock.stamp()
        log = {"recordId": record["id"], "attempt": attempt, "at": stamp}
        log.update(status=status, error=error, durationMs=duration, signature=header)
        log["replay"] = bool(record["replay"])
        db.execute(
            "INSERT INTO webhook_attempts (record_id, doc) VALUES (?, ?)",
            (record["id"], dumps(log)),
        )
        state, next_at, delivered = "pending", 0.0, None
        if error is None:
            state, delivered = "delivered", stamp
        elif status == 410:
            state = "failed"
            self._disable(db, sub_id, "Endpoint returned HTTP 410 Gone.")
        elif attempt >= settings["webhook_max_attempts"]:
            state = "failed"
            self._disable(
                db, sub_id, f"Disabled after {attempt} consecutive failed deliveries."
            )
        else:
            delays = settings["webhook_retry_delays"] or [0]
            next_at = time.time() + delays[min(attempt, len(delays)) - 1]
        db.execute(
            "UPDATE webhook_events SET state = ?, attempt_count = ?, "
            "last_response_code = ?, last_error = ?, delivered_at = ?, "
            "next_attempt_at = ? WHERE id = ?",
            (state, attempt, status, error, delivered, next_at, record["id"]),
        )
        # A delivery held back by a reorder fault goes out once a later one has.
        db.execute(
            "UPDATE webhook_events SET hold_until = 0 WHERE subscription_id = ? "
            "AND hold_until > 0 AND rowid < (SELECT rowid FROM webhook_events "
            "WHERE id = ?)",
            (sub_id, record["id"]),
        )

    def _disable(self, db, sub_id, reason):
        row = db.execute("SELECT doc FROM webhooks WHERE id = ?", (sub_id,)).fetchone()
        sub = load_doc(row)
        if sub is None:
            return
        sub.update(isActive=False, disabledReason=reason)
        sub["updatedUtc"] = self.sb.clock.stamp()
        db.execute("UPDATE webhooks SET doc = ? WHERE id = ?", (dumps(sub), sub_id))
