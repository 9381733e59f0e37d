"""The sandbox's shared state: storage, clock, API key, random source, base URL."""

import hmac
import random
import threading
from datetime import UTC, datetime, timedelta

from . import settings as settings_module
from .store import Clock


class Sandbox:
    """Everything a request handler or the delivery worker needs to reach."""

    def __init__(self, store, api_key, seed=None):
        self.store = store
        self.api_key = api_key
        self.clock = Clock()
        self.rng = random.Random(seed)
        self.base_url = ""
        self._wake = threading.Event()

    def settings(self, db):
        """Current settings (read inside the caller's transaction)."""
        return settings_module.load(db)

    def current_settings(self):
        """Current settings in a transaction of their own."""
        with self.store.tx() as db:
            return settings_module.load(db)

    def key_matches(self, candidate):
        """Constant-time comparison of a presented API key with the configured one."""
        return bool(candidate) and hmac.compare_digest(
            candidate.encode("utf-8"), self.api_key.encode("utf-8")
        )

    def notify(self):
        """Tell the delivery worker that deliveries may be due."""
        self._wake.set()

    def wait_for_work(self, timeout):
        """Block the delivery worker until notified or ``timeout`` seconds passed."""
        self._wake.wait(timeout)
        self._wake.clear()

    @staticmethod
    def today():
        """Today's date in UTC."""
        return datetime.now(UTC).date()

    @staticmethod
    def latest_day():
        """Latest date that is not "in the future" anywhere on earth (UTC+14).

        A client in a time zone ahead of UTC sends its own today; judging dates by the
        earliest time zone keeps such a request valid around midnight.
        """
        return (datetime.now(UTC) + timedelta(hours=14)).date()
