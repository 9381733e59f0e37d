"""Creating cases at the sandbox agency: authentication and account, the case
body's validation, idempotency keys.

Shared pieces in ``sandbox_common.py``, the fixtures in ``conftest.py``.
"""

import json
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sandbox_common import NA, D, E, days_ago, fetch, lines, new_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agency_sandbox.testing import sample_case_body  # noqa: E402

pytestmark = pytest.mark.usefixtures("clean_agency")


# Authentication and account


def test_missing_api_key_is_401_with_the_error_shape(agency):
    response = requests.get(agency.url("/me"), timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"
    assert response.json()["businessErrors"][0]["type"] == "Unauthorized"


def test_wrong_api_key_is_401(agency):
    response = agency.api("GET", "/cases", headers={"XApiKey": "nope"})
    assert response.status_code == 401


def test_me_returns_the_creditor_profile(agency):
    response = agency.api("GET", "/me")
    assert response.json()["companyName"] == "Sandbox Creditor ApS"


def test_users_errors_are_problem_details_as_the_spec_documents(agency):
    unauthorized = requests.get(agency.url("/users"), timeout=10)
    assert unauthorized.status_code == 401
    assert unauthorized.json()["title"] == "Unauthorized"
    assert set(unauthorized.json()) == {"type", "title", "status", "detail", "instance"}
    assert (unauthorized.json()["status"], unauthorized.json()["instance"]) == (
        401, "/users"
    )  # fmt: skip
    too_big = agency.api("GET", "/users", params={"PageSize": 101}).json()
    assert too_big["status"] == 400 and "PageSize" in too_big["errors"]
    assert agency.api("GET", "/users").json()["users"]


# Creating cases


def test_create_with_amount_to_recover_returns_the_case(agency):
    case = new_case(agency)
    assert case["grossAmount"] == 1250.5 and case["remainder"] == 1250.5
    assert case["lifecycle"] == "Pending Verification Internal"
    assert case["currency"] == "EUR" and case["creditorReference"] == "INV-2025-001"
    assert case["dueDate"] == "2025-02-15T00:00:00Z"
    assert case["collectionPartner"]["name"] == "Sandbox Collect Germany"


def test_claim_lines_are_totalled_and_the_oldest_due_date_is_the_case_due_date(
    agency,
):
    claim = lines((100.25, "2025-03-01"), (200, "2024-12-31"), (50, "2025-01-31"))
    case = new_case(
        agency, amountToRecover=None, dueDate=None, date="2024-12-01", claimLines=claim
    )
    assert case["grossAmount"] == 350.25 and case["remainder"] == 350.25
    assert case["dueDate"] == "2024-12-31T00:00:00Z"


# The spec's example: {"dueDate", "amount" (outstanding balance), "reference"}.
SPEC_LINES = [
    {"dueDate": "2024-01-15", "amount": 423.42, "reference": "INV-1001"},
    {"dueDate": "2025-05-02", "amount": 700.87, "reference": "INV-1042"},
]
BY_SPEC_LINES = {"amountToRecover": None, "dueDate": None, "date": "2024-01-01"}


def test_claim_lines_with_references_as_the_spec_shows_them_are_accepted(agency):
    case = new_case(agency, claimLines=SPEC_LINES, **BY_SPEC_LINES)
    assert case["grossAmount"] == 1124.29
    assert case["dueDate"] == "2024-01-15T00:00:00Z"
    assert case["blendedAgeUpliftPoints"] is not None


def test_amount_to_recover_of_zero_may_go_with_claim_lines(agency):
    body = {**BY_SPEC_LINES, "amountToRecover": 0}
    assert new_case(agency, claimLines=SPEC_LINES, **body)["grossAmount"] == 1124.29


def test_age_buckets_are_derived_from_the_claim_lines(agency):
    claim = lines((300, days_ago(800)), (200, days_ago(400)), (100, days_ago(10)))
    body = {**BY_SPEC_LINES, "date": days_ago(900)}
    case = new_case(agency, claimLines=claim, **body)
    assert case["grossAmount"] == 600 and case["dueDate"].startswith(days_ago(800))
    stored = agency.case(case["id"])
    assert stored["buckets"] == {"over6": 50000, "over12": 50000, "over24": 30000}
    # ((A12 - A24) x 10 + A24 x 20) / total = (200 x 10 + 300 x 20) / 600
    assert case["blendedAgeUpliftPoints"] == 13.33


def test_invoice_number_and_invoice_date_are_not_claim_line_fields(agency):
    # Unknown properties are ignored: neither a long invoiceNumber, nor one sent
    # twice, nor an invoiceDate after the due date is checked any more.
    old_style = [
        {"dueDate": D, "amount": 10, "invoiceNumber": "N" * 60, "invoiceDate": E},
        {"dueDate": D, "amount": 20, "invoiceNumber": "N" * 60, "invoiceDate": E},
    ]
    body = {**BY_SPEC_LINES, "creditorReference": "A"}
    case = new_case(agency, claimLines=old_style, **body)
    assert case["grossAmount"] == 30
    # ``reference`` is the field: the same invoice twice is refused.
    twice = [{**line, "reference": "INV-1"} for line in old_style]
    body = sample_case_body(claimLines=twice, **BY_SPEC_LINES, creditorReference="B")
    response = agency.create_case(body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["ClaimLines[1].Reference"]


def test_date_after_the_earliest_line_due_date_is_400_on_date(agency):
    claim = lines((10, "2025-01-10"), (20, "2025-03-01"))
    late = sample_case_body(claimLines=claim, **NA, dueDate=None, date="2025-01-11")
    response = agency.create_case(late)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Date"]
    # an explicit case dueDate is honoured instead of the oldest line's
    explicit = {**late, "dueDate": "2025-02-01"}
    case = agency.create_case(explicit).json()
    assert case["dueDate"] == "2025-02-01T00:00:00Z" and case["grossAmount"] == 30


def test_claim_lines_are_not_stored_nor_shown(agency):
    case = new_case(agency, claimLines=SPEC_LINES, **BY_SPEC_LINES)
    stored = agency.case(case["id"])
    assert "claimLines" not in stored["values"]
    assert "claimLines" not in json.loads(stored["rawBody"])
    for shown in (json.dumps(stored), json.dumps(fetch(agency, case))):
        assert "INV-1001" not in shown and "423.42" not in shown
        assert "claimlines" not in shown.lower()


def test_request_log_keeps_the_claim_lines_as_sent(agency):
    agency.create_case(sample_case_body(claimLines=SPEC_LINES, **BY_SPEC_LINES))
    entry = agency.request_log(method="POST", path="/cases")[0]
    assert entry["body"]["claimLines"] == SPEC_LINES
    assert entry["bodyTruncated"] is False


def test_request_log_keeps_a_1000_line_body_whole(agency):
    claim = [
        {"dueDate": D, "amount": 1.01, "reference": f"INVOICE-{n:06d}"}
        for n in range(1000)
    ]
    case = new_case(agency, claimLines=claim, **BY_SPEC_LINES)
    assert case["grossAmount"] == 1010
    entry = agency.request_log(method="POST", path="/cases")[0]
    assert entry["bodySize"] > 64 * 1024 and entry["bodyTruncated"] is False
    assert entry["body"]["claimLines"] == claim


def test_skip_verification_starts_with_the_partner_verification(agency):
    case = new_case(agency, skipDebituraVerification=True, isTest=True)
    assert case["lifecycle"] == "Pending Verification" and case["isTestCase"] is True


def test_us_debtor_accepts_a_full_state_name(agency):
    case = new_case(agency, debtor={"countryAlpha2": "US", "stateAlpha2": "California"})
    assert case["debtor"]["stateAlpha2"] == "CA"


def by_lines(*pairs):
    return {"claimLines": lines(*pairs), **NA}


def by_lines_with(**fields):
    return {"claimLines": [{"amount": 1, "dueDate": D, **fields}], **NA}


def debtor(**fields):
    return {"debtor": fields}


INVALID = {  # test id: (expected error key, changes to the sample body)
    "missing_currency": ("CurrencyCode", {"currencyCode": None}),
    "unknown_currency": ("CurrencyCode", {"currencyCode": "EUX"}),
    "future_date": ("Date", {"date": "2999-01-01"}),
    "due_before_date": ("DueDate", {"dueDate": D}),
    "zero_amount": ("AmountToRecover", {"amountToRecover": 0}),
    "three_decimals": ("AmountToRecover", {"amountToRecover": 10.005}),
    "no_amount_nor_lines": ("AmountToRecover", NA),
    "amount_and_lines": ("ClaimLines", {"claimLines": lines((1, D))}),
    "line_not_positive": ("ClaimLines[1].Amount", by_lines((5, D), (0, D))),
    "line_3_decimals": ("ClaimLines[0].Amount", by_lines((1.001, D))),
    "line_no_due_date": ("ClaimLines[2].DueDate", by_lines((1, D), (2, D), (3, None))),
    "over_1000_lines": ("ClaimLines", by_lines(*[(1, D)] * 1001)),
    "line_before_2000": ("ClaimLines[0].DueDate", by_lines((1, "1999-12-31"))),
    "line_in_future": ("ClaimLines[1].DueDate", by_lines((1, D), (1, "2999-01-01"))),
    "line_reference_not_text": (
        "ClaimLines[0].Reference", by_lines_with(reference=7)
    ),
    "bucket_and_lines": (
        "AmountToRecoverOver6Months",
        {**by_lines((1, D)), "amountToRecoverOver6Months": 1},
    ),
    "bucket_alone": ("AmountToRecoverOver24Months", {"amountToRecoverOver12Months": 1}),
    "long_creditor_reference": ("CreditorReference", {"creditorReference": "X" * 51}),
    "long_tag": ("Tag", {"tag": "t" * 101}),
    "unknown_assigned_user": ("AssignedUserEmail", {"assignedUserEmail": "x@y.dk"}),
    "debtor_type": ("Debtor.Type", debtor(type="Robot")),
    "company_without_name": ("Debtor.Name", debtor(name=" ")),
    "private_without_name": ("Debtor.Name", debtor(type="Private", name=None)),
    "missing_country": ("Debtor.CountryAlpha2", debtor(countryAlpha2=None)),
    "us_without_state": ("Debtor.StateAlpha2", debtor(countryAlpha2="US")),
}  # fmt: skip


@pytest.mark.parametrize("key,changes", INVALID.values(), ids=INVALID.keys())
def test_create_rejects_an_invalid_field_with_a_400_keyed_by_field(
    agency, key, changes
):
    response = agency.create_case(sample_case_body(**changes))
    assert response.status_code == 400, response.text
    assert key in response.json()["errors"], response.json()["errors"]


def test_validation_error_has_the_spec_error_shape(agency):
    body = agency.create_case(sample_case_body(currencyCode=None)).json()
    assert body["error"] == "ValidationError" and body["message"]
    assert body["businessErrors"][0]["type"] == "ValidationError"
    assert body["errors"] == {"CurrencyCode": ["The CurrencyCode field is required."]}


def test_non_json_body_is_415(agency):
    assert agency.api("POST", "/cases", data="x").status_code == 415


def test_uncovered_country_is_422_no_partner_available(agency):
    response = agency.create_case(sample_case_body(debtor={"countryAlpha2": "JP"}))
    assert response.status_code == 422
    assert response.json()["businessErrors"][0]["type"] == "NoPartnerAvailable"
    assert "signingHandoff" in response.json()


def test_coverage_is_a_setting(agency):
    agency.settings(covered_countries=["JP"])
    japan = sample_case_body(debtor={"countryAlpha2": "JP"})
    assert agency.create_case(japan).status_code == 200
    germany = sample_case_body(creditorReference="B")
    assert agency.create_case(germany).status_code == 422


def test_duplicate_creditor_reference_is_422(agency):
    first = new_case(agency)
    response = agency.create_case()
    assert response.status_code == 422
    error = response.json()["businessErrors"][0]
    assert error["type"] == "DuplicateCreditorReference"
    assert first["id"] in error["message"]


def test_unsigned_contract_is_422_with_signing_urls(agency):
    agency.settings(sdca_signed=False)
    body = agency.create_case().json()
    assert body["businessErrors"][0]["type"] == "MissingDebtCollectionContract"
    assert body["businessErrors"][0]["solutionUrl"]
    assert body["signingHandoff"]["combinedSigningUrl"]


def test_pending_contracts_case_waits_then_moves_on_once_signed(agency):
    agency.settings(poa_signed=False)
    case = new_case(agency, allowPendingContracts=True)
    assert case["lifecycle"] == "Pending contract signing" and case["solutionUrl"]
    assert agency.sign_contracts()["casesReleased"] == [case["id"]]
    assert fetch(agency, case)["lifecycle"] == "Pending Verification Internal"


# Idempotency


def test_same_key_and_body_replays_the_first_response_verbatim(agency):
    first = agency.create_case(idempotency_key="key-1")
    second = agency.create_case(idempotency_key="key-1")
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert len(agency.cases()) == 1


def test_same_key_with_another_body_is_422_idempotency_conflict(agency):
    agency.create_case(idempotency_key="key-1")
    other = sample_case_body(amountToRecover=99)
    response = agency.create_case(other, idempotency_key="key-1")
    assert response.status_code == 422
    assert response.json()["businessErrors"][0]["type"] == "IdempotencyConflict"


def test_400_is_not_stored_so_the_fixed_request_may_reuse_the_key(agency):
    broken = sample_case_body(currencyCode=None)
    assert agency.create_case(broken, idempotency_key="k").status_code == 400
    assert agency.create_case(idempotency_key="k").status_code == 200


def test_business_error_is_stored_and_replayed(agency):
    japan = sample_case_body(debtor={"countryAlpha2": "JP"})
    first = agency.create_case(japan, idempotency_key="k")
    agency.settings(covered_countries=["JP"])
    again = agency.create_case(japan, idempotency_key="k")
    assert (first.status_code, again.content) == (422, first.content)


def test_request_in_flight_with_the_same_key_is_409(agency):
    agency.add_fault("latency", method="POST", path="/cases", seconds=1.0)
    slow = {}
    thread = threading.Thread(
        target=lambda: slow.update(r=agency.create_case(idempotency_key="k"))
    )
    thread.start()
    time.sleep(0.4)
    headers = {**agency.api_headers, "Idempotency-Key": "k"}
    concurrent = requests.post(
        agency.url("/cases"), json=sample_case_body(), headers=headers, timeout=10
    )
    thread.join()
    assert (concurrent.status_code, slow["r"].status_code) == (409, 200)


def test_idempotency_key_over_255_characters_is_400(agency):
    response = agency.create_case(idempotency_key="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_empty_idempotency_key_is_400(agency):
    # (HTTP strips a field value's surrounding whitespace: "   " arrives empty too)
    headers = {"Idempotency-Key": ""}
    response = agency.api("POST", "/cases", headers=headers, json=sample_case_body())
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert agency.cases() == []


def test_idempotency_key_is_kept_for_its_ttl_then_forgotten(agency):
    assert agency.settings()["idempotency_ttl_seconds"] >= 24 * 3600
    agency.settings(idempotency_ttl_seconds=0.2)
    agency.create_case(idempotency_key="k")
    time.sleep(0.3)
    other = sample_case_body(creditorReference="OTHER")
    assert agency.create_case(other, idempotency_key="k").status_code == 200
