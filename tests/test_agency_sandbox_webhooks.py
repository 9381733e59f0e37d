"""The sandbox agency's webhooks: signed deliveries, retries, subscriptions, and
the webhook faults (duplicate, drop, reorder).

Shared pieces in ``sandbox_common.py``, the fixtures in ``conftest.py``.
"""

import base64
import sys
from pathlib import Path

import pytest
from sandbox_common import new_case, own_signature_check

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agency_sandbox import signatures  # noqa: E402
from agency_sandbox.testing import WebhookReceiver  # noqa: E402

pytestmark = pytest.mark.usefixtures("clean_agency")


# Webhooks


def test_webhook_is_delivered_signed_with_the_event_header(agency, receiver):
    secret = agency.subscribe_webhook(receiver.url)["secret"]
    case = new_case(agency)
    delivery = receiver.wait_for(1)[0]
    assert delivery.headers["X-Debitura-Event"] == "case.created"
    assert own_signature_check(secret, delivery)
    assert not own_signature_check(base64.b64encode(b"other").decode(), delivery)
    data = delivery.json["data"]
    assert (data["caseId"], data["reference"]) == (case["id"], case["reference"])
    assert data["creditorReference"] == "INV-2025-001"


def test_partner_actions_emit_their_events_in_order(agency, receiver):
    agency.subscribe_webhook(receiver.url)
    case = new_case(agency)
    paid = agency.register_payment(case["id"], 10)["payment"]
    agency.delete_payment(case["id"], paid["id"])
    agency.partner_message(case["id"], "hi")
    agency.activate(case["id"])
    agency.close(case["id"], "Paid")
    assert [d.json["event"] for d in receiver.wait_for(7)] == [
        "case.created", "payment.created", "payment.deleted", "chat.created",
        "case.updated", "case.updated", "case.closed",
    ]  # fmt: skip
    assert receiver.deliveries[4].json["data"]["newLifecycle"] == "Active"


def test_test_case_events_only_reach_test_subscriptions(agency, receiver):
    with WebhookReceiver() as live_receiver:
        agency.subscribe_webhook(live_receiver.url)
        agency.subscribe_webhook(receiver.url, test_mode=True)
        new_case(agency, isTest=True)
        agency.wait_for_webhooks()
    assert len(receiver.deliveries) == 1 and live_receiver.deliveries == []


def test_failed_delivery_is_retried_until_it_succeeds(agency, receiver):
    agency.subscribe_webhook(receiver.url)
    receiver.respond_with(500, 500)
    new_case(agency)
    assert len({d.json["id"] for d in receiver.wait_for(3)}) == 1
    record = agency.wait_for_webhooks()["deliveries"][0]
    assert (record["state"], record["attempt_count"]) == ("delivered", 3)


def test_subscription_is_disabled_after_8_failed_attempts(agency, receiver):
    sub = agency.subscribe_webhook(receiver.url)
    receiver.default_status = 500
    new_case(agency)
    receiver.wait_for(8)
    agency.wait_for_webhooks()
    state = agency.api("GET", f"/webhooks/{sub['id']}").json()
    assert state["isActive"] is False and "8" in state["disabledReason"]
    assert len(receiver.deliveries) == 8


def test_410_disables_the_subscription_at_once(agency, receiver):
    sub = agency.subscribe_webhook(receiver.url)
    receiver.respond_with(410)
    new_case(agency)
    receiver.wait_for(1)
    agency.wait_for_webhooks()
    assert agency.api("GET", f"/webhooks/{sub['id']}").json()["isActive"] is False


def test_event_log_and_replay_resend_the_same_payload(agency, receiver):
    agency.subscribe_webhook(receiver.url)
    case = new_case(agency)
    original = receiver.wait_for(1)[0]
    agency.wait_for_webhooks()
    log = agency.api("GET", f"/webhooks/events?caseId={case['id']}").json()
    assert log[0]["eventType"] == "case.created" and log[0]["deliveredAt"]
    replay = agency.api("POST", f"/webhooks/events/{log[0]['id']}/replay")
    assert replay.json()["eventId"] == log[0]["id"]
    replayed = receiver.wait_for(2)[1]
    assert replayed.body == original.body
    assert replayed.headers["X-Debitura-Replay"] == "true"


def test_subscription_crud_hides_the_secret_after_creation(agency, receiver):
    sub = agency.subscribe_webhook(receiver.url, ["case.created"])
    listed = agency.api("GET", "/webhooks").json()
    assert (listed[0]["id"], listed[0]["secret"]) == (sub["id"], None)
    patch = {"regenerateSecret": True}
    patched = agency.api("PATCH", f"/webhooks/{sub['id']}", json=patch).json()
    assert patched["secret"] and patched["secret"] != sub["secret"]
    assert agency.api("DELETE", f"/webhooks/{sub['id']}").status_code == 204
    assert agency.api("GET", f"/webhooks/{sub['id']}").status_code == 404
    bad = {"url": receiver.url, "events": ["case.exploded"]}
    assert agency.api("POST", "/webhooks", json=bad).status_code == 400


def test_rotation_grace_signs_with_the_new_and_the_old_secret(agency, receiver):
    agency.settings(secret_rotation_grace_seconds=600)
    old = agency.subscribe_webhook(receiver.url)
    patch = {"regenerateSecret": True}
    new = agency.api("PATCH", f"/webhooks/{old['id']}", json=patch).json()
    new_case(agency)
    delivery = receiver.wait_for(1)[0]
    header = delivery.headers["X-Debitura-Signature"]
    assert header.count("v1=") == 2
    for secret in (old["secret"], new["secret"]):
        assert signatures.verify_signature(secret, delivery.body, header)


def test_duplicate_fault_delivers_the_event_twice_with_one_id(agency, receiver):
    agency.subscribe_webhook(receiver.url)
    agency.add_fault("webhook_duplicate", event="case.created")
    new_case(agency)
    first, second = receiver.wait_for(2)
    assert first.body == second.body


def test_drop_fault_never_delivers_the_event(agency, receiver):
    agency.subscribe_webhook(receiver.url)
    agency.add_fault("webhook_drop", event="case.created")
    case = new_case(agency)
    agency.partner_message(case["id"], "after")
    assert [d.json["event"] for d in receiver.wait_for(1)] == ["chat.created"]
    assert agency.wait_for_webhooks()["deliveries"][0]["state"] == "dropped"


def test_reorder_fault_delivers_the_held_event_after_the_next(agency, receiver):
    agency.subscribe_webhook(receiver.url)
    agency.add_fault("webhook_reorder", event="case.created")
    case = new_case(agency)
    agency.activate(case["id"])
    events = [d.json["event"] for d in receiver.wait_for(2)]
    assert events == ["case.updated", "case.created"]
