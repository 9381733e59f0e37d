"""SQLite persistence of the sandbox: one file, one connection, one lock.

Every request thread and the webhook worker go through ``Store.tx()``, which holds a
re-entrant lock for the whole transaction: SQLite serialises writers anyway, and a
single connection behind a lock is the simplest arrangement that is safe with
Werkzeug's threaded server. Nothing slow (sleeps, outgoing HTTP) ever runs inside a
transaction, so the lock is held for milliseconds.

Records are JSON documents with the columns the API filters and sorts on beside them.
The file survives a restart: ``python -m agency_sandbox --db same.sqlite`` finds its
cases, subscriptions and idempotency keys again (requests that were in flight when the
process died are forgotten, so their keys can be retried).
"""

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, creditor_reference TEXT,
    debtor_id TEXT NOT NULL, is_test INTEGER NOT NULL, tag TEXT, division_id TEXT,
    lifecycle TEXT NOT NULL, lifecycle_rank INTEGER NOT NULL, close_code TEXT,
    close_code_rank INTEGER NOT NULL, date_created TEXT NOT NULL,
    date_updated TEXT NOT NULL, date_finished TEXT, date_collection_started TEXT,
    due_date TEXT, invoice_date TEXT, gross_cents INTEGER NOT NULL,
    remainder_cents INTEGER NOT NULL, interest_cents INTEGER NOT NULL,
    reminder_fee_cents INTEGER NOT NULL, collection_fee_cents INTEGER NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cases_creditor_reference ON cases (creditor_reference);
CREATE INDEX IF NOT EXISTS cases_date_updated ON cases (date_updated);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY, case_id TEXT NOT NULL, deleted_at TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY, case_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, case_id TEXT NOT NULL, doc TEXT NOT NULL, content BLOB);
CREATE TABLE IF NOT EXISTS timeline (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_cases (id TEXT PRIMARY KEY, deleted_at TEXT);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    state TEXT NOT NULL, status INTEGER, headers TEXT, body BLOB,
    created_at REAL NOT NULL, completed_at REAL, PRIMARY KEY (scope, key));
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_events (
    id TEXT PRIMARY KEY, event_id TEXT NOT NULL, subscription_id TEXT NOT NULL,
    case_id TEXT, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    state TEXT NOT NULL, created_at TEXT NOT NULL, delivered_at TEXT,
    attempt_count INTEGER NOT NULL DEFAULT 0, last_response_code INTEGER,
    last_error TEXT, next_attempt_at REAL NOT NULL, hold_until REAL NOT NULL DEFAULT 0,
    replay INTEGER NOT NULL DEFAULT 0, test INTEGER NOT NULL DEFAULT 0, fault TEXT);
CREATE INDEX IF NOT EXISTS webhook_events_due
    ON webhook_events (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faults (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
"""

DATA_TABLES = (
    "cases",
    "payments",
    "chats",
    "files",
    "timeline",
    "deleted_cases",
    "idempotency",
    "webhooks",
    "webhook_events",
    "webhook_attempts",
    "requests_log",
    "faults",
)


def dumps(value):
    """Compact JSON text, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Clock:
    """UTC timestamps that strictly increase, so ``DateUpdated`` sorts are total."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last = None

    def now(self):
        """Current UTC time, at least one microsecond after the previous call."""
        with self._lock:
            current = datetime.now(UTC)
            if self._last is not None and current <= self._last:
                current = self._last + timedelta(microseconds=1)
            self._last = current
            return current

    def stamp(self):
        """``now()`` as the fixed-width ISO text stored and returned by the API."""
        return iso(self.now())


def iso(moment):
    """``2026-01-31T15:23:45.123456Z`` for an aware datetime."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    """The sandbox's SQLite file."""

    def __init__(self, path):
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        with self.tx() as db:
            # A request that was running when the process stopped never finished:
            # forget its key so that the client's retry is processed.
            db.execute("DELETE FROM idempotency WHERE state = 'in_flight'")
            db.execute(
                "UPDATE webhook_events SET state = 'pending' WHERE state = 'delivering'"
            )

    @contextmanager
    def tx(self):
        """Run the block in one transaction (nested calls join the outer one)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._db
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def close(self):
        """Close the connection (the file stays)."""
        with self._lock:
            self._db.close()

    def wipe(self):
        """Delete every record except the settings."""
        with self.tx() as db:
            for table in DATA_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names


def load_doc(row, column="doc"):
    """Parse the JSON document of a row (None for no row)."""
    return None if row is None else json.loads(row[column])
