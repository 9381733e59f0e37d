"""The pieces the sandbox agency's suites (``test_agency_sandbox_*.py``) share.

The sandbox agency speaks Debitura's Customer API v1 over real HTTP. One sandbox
subprocess serves each test module (reset before each test: the fixtures are in
``conftest.py``); every assertion goes through HTTP with ``requests``, and
webhooks reach a loopback receiver whose signatures the tests check with their
own HMAC computation.
"""

import base64
import hashlib
import hmac
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# SandboxProcess and WebhookReceiver for conftest.py's fixtures
from agency_sandbox.testing import (  # noqa: E402, F401
    SandboxProcess,
    WebhookReceiver,
    sample_case_body,
)

# Two due dates, and the change that leaves the amount out of a case body: the
# validation tables of the creation and the preview use them.
D, E, NA = "2025-01-01", "2025-01-20", {"amountToRecover": None}

FAST = {"webhook_retry_delays": [0.01] * 7, "webhook_reorder_window": 5.0}


def lines(*pairs):
    return [{"amount": amount, "dueDate": due} for amount, due in pairs]


def days_ago(days):
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


def new_case(agency, **changes):
    response = agency.create_case(sample_case_body(**changes))
    assert response.status_code == 200, response.text
    return response.json()


def fetch(agency, case):
    return agency.api("GET", f"/cases/{case['id']}").json()


def own_signature_check(secret_b64, delivery):
    """Independent check: HMAC-SHA256("{t}.{body}") keyed with the decoded secret."""
    header = delivery.headers["X-Debitura-Signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    signed = parts["t"].encode() + b"." + delivery.body
    key = base64.b64decode(secret_b64)
    expected = hmac.new(key, signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(parts["t"])) <= 300
    return fresh and hmac.compare_digest(expected, parts["v1"])
