"""The sandbox agency's partner side (control API) and the test endpoints of the
spec.

Shared pieces in ``sandbox_common.py``, the fixtures in ``conftest.py``.
"""

import sys
from pathlib import Path

import pytest
from sandbox_common import fetch, new_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agency_sandbox.testing import SandboxError  # noqa: E402

pytestmark = pytest.mark.usefixtures("clean_agency")


# Partner side (control API)


def test_partner_drives_the_lifecycle_and_each_step_updates_the_case(agency):
    case = new_case(agency)
    stamps = [case["dateUpdated"]]
    for step in (agency.activate, agency.pause, agency.resume):
        stamps.append(step(case["id"])["dateUpdated"])
    closed = agency.close(case["id"], "Pre-Legal Exhausted – No Payment", "nothing")
    assert closed["lifecycle"] == "Closed"
    assert closed["closeCode"] == "Pre-Legal Exhausted – No Payment"
    assert closed["dateFinished"] and closed["currentEngagementPhase"] == "Pre-legal"
    assert stamps == sorted(stamps) and len(set(stamps)) == 4


def test_refused_partner_move_is_409(agency):
    case = new_case(agency)
    with pytest.raises(SandboxError, match="409"):
        agency.pause(case["id"])


def test_timeline_items_have_the_spec_fields(agency):
    case = new_case(agency)
    agency.activate(case["id"])
    timeline = agency.api("GET", f"/cases/{case['id']}/timeline").json()
    assert timeline["currentEngagementPhase"] == "Pre-legal"
    first = timeline["items"][0]
    assert list(first) == [
        "date", "type", "title", "description", "relatedCases", "actor"
    ]  # fmt: skip
    assert first["relatedCases"] is None and first["actor"]["type"] == "System"


def test_request_for_details_sets_needs_info(agency):
    case = new_case(agency)
    updated = agency.request_details(case["id"], "Please send the contract.")
    assert updated["lifecycle"] == "More Info Required"
    assert updated["validation"] == {"needsInfo": True}
    details = agency.api("GET", f"/cases/{case['id']}/validation").json()
    assert details["items"][0]["description"] == "Please send the contract."


# Test endpoints of the spec


def advance(agency, case, **payload):
    return agency.api("POST", f"/test/cases/{case['id']}/advance", json=payload)


def test_advance_activates_then_closes_paid_then_is_a_no_op(agency):
    case = new_case(agency, isTest=True)
    active = advance(agency, case, to="Active").json()
    assert active == {"advanced": True, "state": "Active"}
    paid = advance(agency, case, to="Closed:Paid", amount=1250.5).json()
    assert paid == {"advanced": True, "state": "Closed:Paid"}
    again = advance(agency, case, to="Closed:Paid", amount=1250.5).json()
    assert again == {"advanced": False, "state": "Closed:Paid"}
    refreshed = fetch(agency, case)
    assert (refreshed["closeCode"], refreshed["remainder"]) == ("Paid", 0.0)


def test_advance_guards_are_400(agency):
    live = new_case(agency)
    test = new_case(agency, isTest=True, creditorReference="T")
    assert advance(agency, live, to="Active").status_code == 400
    assert advance(agency, test, to="Closed:Paid").status_code == 400
    assert advance(agency, test, to="Legal").status_code == 400
    advance(agency, test, to="Closed:NoPayment")
    assert advance(agency, test, to="Closed:Paid", amount=5).status_code == 400


def test_delete_test_cases_by_tag_is_idempotent(agency):
    case = new_case(agency, isTest=True, tag="run-1")
    assert agency.api("DELETE", "/test/cases?tag=run-1").status_code == 204
    assert agency.api("GET", f"/cases/{case['id']}").status_code == 404
    assert agency.api("DELETE", "/test/cases?tag=run-1").status_code == 204
    assert agency.api("DELETE", f"/test/cases/{case['id']}").status_code == 204


def test_fire_sends_the_current_state_to_test_subscriptions(agency, receiver):
    agency.subscribe_webhook(receiver.url, ["case.updated"], test_mode=True)
    case = new_case(agency, isTest=True)
    payload = {"event": "case.updated", "caseId": case["id"]}
    fired = agency.api("POST", "/test/webhooks/fire", json=payload).json()
    assert fired == {
        "eventType": "case.updated",
        "caseId": case["id"],
        "enqueuedCount": 1,
    }
    delivered = receiver.wait_for(1)[0].json
    assert delivered["classification"] == "test"
    assert delivered["data"]["caseId"] == case["id"]
    payload["event"] = "payment.created"  # no payment yet
    assert agency.api("POST", "/test/webhooks/fire", json=payload).status_code == 422
