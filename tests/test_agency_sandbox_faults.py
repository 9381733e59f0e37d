"""The sandbox agency's HTTP faults, request log, persistence, runners and
signatures.

Shared pieces in ``sandbox_common.py``, the fixtures in ``conftest.py``.
"""

import json
import sys
import time
from pathlib import Path

import pytest
import requests
from sandbox_common import new_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agency_sandbox import signatures  # noqa: E402
from agency_sandbox.testing import (  # noqa: E402
    SandboxProcess,
    SandboxThread,
    sample_case_body,
)

pytestmark = pytest.mark.usefixtures("clean_agency")


# HTTP faults


def test_timeout_fault_outlasts_the_client_and_processes_nothing(agency):
    agency.add_fault("timeout", method="POST", path="/cases", seconds=1.0)
    with pytest.raises(requests.Timeout):
        agency.create_case(timeout=0.3)
    deadline = time.monotonic() + 5  # the server logs the request once it gave up
    while not agency.request_log(path="/cases") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert agency.request_log(path="/cases")[0]["fault"] == "timeout"
    assert agency.cases() == []
    assert agency.create_case().status_code == 200


def test_reset_fault_resets_the_connection(agency):
    agency.add_fault("reset", method="POST", path="/cases")
    with pytest.raises(requests.ConnectionError, match="reset"):
        agency.create_case()
    assert agency.cases() == []


def test_status_fault_fails_the_next_create_once(agency):
    agency.add_fault("status", method="POST", path="/cases", status=503, count=1)
    failed = agency.create_case()
    assert failed.status_code == 503 and failed.json()["error"] == "ServerError"
    assert agency.create_case().status_code == 200
    assert agency.faults()[0]["remaining"] == 0


def test_rate_limit_fault_answers_429_with_retry_after(agency):
    agency.add_fault("rate_limit", method="GET", path="/cases", retryAfter=7)
    response = agency.api("GET", "/cases")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7" and response.json()["retryAfter"] == 7


def test_lost_response_fault_creates_the_case_and_the_retry_replays_it(agency):
    agency.add_fault("lost_response", method="POST", path="/cases")
    with pytest.raises(requests.ConnectionError):
        agency.create_case(idempotency_key="k")
    created = agency.cases()
    assert len(created) == 1
    retry = agency.create_case(idempotency_key="k")
    assert retry.status_code == 200 and retry.json()["id"] == created[0]["id"]


def test_latency_fault_delays_the_response(agency):
    agency.add_fault("latency", method="GET", path="/me", seconds=0.5)
    started = time.monotonic()
    assert agency.api("GET", "/me").status_code == 200
    assert time.monotonic() - started >= 0.5


def test_probability_one_rule_fires_on_every_match(agency):
    agency.add_fault("status", path="/me", count=None, probability=1.0, status=502)
    statuses = [agency.api("GET", "/me").status_code for _ in range(3)]
    assert statuses == [502, 502, 502]


# Inspection, persistence, runners, signatures


def test_request_log_masks_the_api_key(agency):
    agency.create_case(idempotency_key="k")
    entry = agency.request_log(method="POST", path="/cases")[0]
    assert entry["status"] == 200 and entry["idempotencyKey"] == "k"
    assert entry["headers"]["Xapikey"] == "***"
    assert entry["body"] == sample_case_body()


def test_request_log_keeps_text_and_cuts_long_bodies(agency):
    plain = {"Content-Type": "text/plain"}
    agency.api("POST", "/cases", data="plain words", headers=plain)
    huge = sample_case_body(comments="x" * (300 * 1024))
    agency.create_case(huge)
    text, cut = agency.request_log(method="POST", path="/cases")
    assert text["status"] == 415 and text["body"] == "plain words"
    assert text["bodyTruncated"] is False
    assert cut["status"] == 400 and cut["bodyTruncated"] is True
    assert cut["body"] == json.dumps(huge)[: 256 * 1024]


def test_state_survives_a_restart(tmp_path):
    with SandboxProcess(api_key="k", db_path=tmp_path / "state.sqlite") as agency:
        first = agency.create_case(idempotency_key="persist")
        agency.restart()
        again = agency.create_case(idempotency_key="persist")
        listed = agency.api("GET", "/cases").json()["cases"]
    assert again.content == first.content
    assert [case["id"] for case in listed] == [first.json()["id"]]


def test_thread_runner_serves_the_same_api():
    with SandboxThread(api_key="k") as agency:
        assert new_case(agency)["lifecycle"] == "Pending Verification Internal"


def test_signature_check_rejects_stale_or_tampered_and_accepts_any_v1():
    secret, other = signatures.new_secret(), signatures.new_secret()
    header = signatures.signature_header([other, secret], b"{}", timestamp=1_000)
    assert signatures.verify_signature(secret, b"{}", header, now=1_100)
    assert not signatures.verify_signature(secret, b"{} ", header, now=1_100)
    assert not signatures.verify_signature(secret, b"{}", header, now=1_301)
    assert not signatures.verify_signature(secret, b"{}", "t=1000", now=1_000)
