"""The sandbox agency speaks Debitura's Customer API v1 over real HTTP.

One sandbox subprocess serves the module (reset before each test); every assertion
goes through HTTP with ``requests``, and webhooks reach a loopback receiver whose
signatures the tests check with their own HMAC computation.
"""

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agency_sandbox import signatures  # noqa: E402
from agency_sandbox.testing import (  # noqa: E402
    SandboxError,
    SandboxProcess,
    SandboxThread,
    WebhookReceiver,
    sample_case_body,
)

FAST = {"webhook_retry_delays": [0.01] * 7, "webhook_reorder_window": 5.0}


@pytest.fixture(scope="module")
def agency():
    with SandboxProcess(api_key="test-key", settings=FAST) as running:
        yield running


@pytest.fixture(autouse=True)
def clean(agency):
    agency.reset()
    agency.settings(**FAST)


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running


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


D, E, NA = "2025-01-01", "2025-01-20", {"amountToRecover": None}


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


# Reading cases


def test_get_case_by_id_and_by_references(agency):
    case = new_case(agency, creditorReference="INV/7 A")
    by_ref = agency.api("GET", "/cases/by-creditor-reference/INV%2F7%20A").json()
    by_case_ref = agency.api("GET", f"/cases/case-reference/{case['reference']}")
    assert fetch(agency, case) == by_ref == by_case_ref.json() == case


def test_unknown_case_is_404_and_malformed_id_is_400(agency):
    missing = agency.api("GET", "/cases/00000000-0000-0000-0000-000000000001")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    assert agency.api("GET", "/cases/not-a-guid").status_code == 400
    unknown_reference = agency.api("GET", "/cases/by-creditor-reference/none")
    assert unknown_reference.status_code == 404


def test_list_pages_with_page_metadata(agency):
    for number in range(5):
        new_case(agency, creditorReference=f"R{number}")
    body = agency.api("GET", "/cases?Page=2&PageSize=2").json()
    assert len(body["cases"]) == 2
    assert body["page"] == {
        "totalResults": 5, "pageSize": 2, "currentPage": 2, "responseCount": 2,
        "totalPages": 3, "skipped": 2,
    }  # fmt: skip


def test_list_sorts_by_date_updated(agency):
    first, second, third = (new_case(agency, creditorReference=r) for r in "ABC")
    agency.activate(first["id"])
    desc = agency.api("GET", "/cases?Sort=DateUpdated:desc").json()["cases"]
    asc = agency.api("GET", "/cases?sort=DateUpdated:asc").json()["cases"]
    assert [c["id"] for c in desc] == [first["id"], third["id"], second["id"]]
    assert [c["id"] for c in asc] == [second["id"], third["id"], first["id"]]


def test_list_filters_by_status_ids_and_debtor(agency):
    one, two = new_case(agency), new_case(agency, creditorReference="B")
    agency.activate(two["id"])
    debtor_id = agency.case(one["id"])["debtorId"]

    def listed(query):
        return [c["id"] for c in agency.api("GET", "/cases?" + query).json()["cases"]]

    assert listed("Statuses=active") == [two["id"]]
    assert listed(f"Ids={one['id']}") == [one["id"]]
    assert len(listed(f"DebtorIds={debtor_id}")) == 2  # the same debtor twice


def test_list_rejects_page_size_over_100_and_unknown_status(agency):
    assert agency.api("GET", "/cases?PageSize=101").status_code == 400
    assert agency.api("GET", "/cases?Statuses=Sleeping").status_code == 400


# Files


def test_uploaded_file_is_listed_and_inspectable(agency):
    case, content = new_case(agency), b"%PDF-1.4 invoice"
    response = agency.api(
        "POST", f"/cases/{case['id']}/files",
        files={"File": ("invoice-7.pdf", content, "application/pdf")},
        data={"Description": "Invoice 7", "DocumentType": "OriginalInvoice"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    listed = agency.api("GET", f"/cases/{case['id']}/files").json()
    assert listed == [response.json()] and listed[0]["fileName"] == "invoice-7.pdf"
    stored = agency.files()[0]
    assert stored["size"] == len(content)
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert requests.get(listed[0]["url"], timeout=10).content == content


@pytest.mark.parametrize(
    "part,status",
    [
        pytest.param({"File": ("run.exe", b"MZ")}, 415, id="disallowed_extension"),
        pytest.param(
            {"File": ("big.pdf", b"0" * (25 * 1024 * 1024 + 1))}, 413, id="over_25_mb"
        ),
        pytest.param({"Other": ("a.pdf", b"x")}, 400, id="no_file_part"),
    ],
)
def test_upload_refuses_bad_files(agency, part, status):
    case = new_case(agency)
    response = agency.api("POST", f"/cases/{case['id']}/files", files=part)
    assert response.status_code == status


# Payments, chats, preview


def test_registered_payment_is_listed_and_reduces_the_remainder(agency):
    case = new_case(agency)
    agency.register_payment(case["id"], 250.5, recipient="Creditor", commission=37.5)
    payments = agency.api("GET", f"/cases/{case['id']}/payments").json()
    assert [(p["grossAmount"], p["recipient"], p["currency"]) for p in payments] == [
        (250.5, "Creditor", "EUR")
    ]
    assert payments[0]["invoice"]["invoiceId"] == case["id"]
    refreshed = fetch(agency, case)
    assert refreshed["remainder"] == 1000.0
    assert refreshed["dateUpdated"] > case["dateUpdated"]
    assert agency.case(case["id"])["payments"][0]["commissionCents"] == 3750
    assert agency.api("GET", "/Payments").json()["payments"] == payments


def test_deleted_payment_disappears_and_restores_the_balance(agency):
    case = new_case(agency)
    paid = agency.register_payment(case["id"], 100)["payment"]
    restored = agency.delete_payment(case["id"], paid["id"])["case"]
    assert restored["remainder"] == 1250.5
    assert agency.api("GET", f"/cases/{case['id']}/payments").json() == []


def test_creditor_chat_is_attributed_to_the_team_member(agency):
    case, email = new_case(agency), "accountant@sandbox-creditor.example"
    path = f"/cases/{case['id']}/chats"
    sent = agency.api(
        "POST", path, json={"message": "Debtor called", "userEmail": email}
    )
    assert sent.json()["roleLabel"] == "Creditor"
    assert sent.json()["user"]["email"] == email
    assert agency.api("POST", path, json={"message": "x"}).status_code == 400


def test_partner_message_appears_in_the_case_chats(agency):
    case = new_case(agency)
    agency.partner_message(case["id"], "We reached the debtor.")
    chats = agency.api("GET", f"/cases/{case['id']}/chats").json()
    assert [(c["role"], c["roleLabel"], c["message"]) for c in chats] == [
        (0, "Partner", "We reached the debtor.")
    ]


def preview(agency, country, **changes):
    payload = {"amountToRecover": 1000, "currencyCode": "EUR", **changes}
    payload["debtor"] = {"type": "Company", "countryAlpha2": country}
    return agency.api("POST", "/cases/preview", json=payload).json()["result"]


def test_preview_shows_eligibility_partner_and_age_surcharge(agency):
    result = preview(agency, "DK", dueDate="2020-01-01")
    assert result["isEligible"] is True
    assert result["partnerAssignment"]["partnerCountry"] == "DK"
    pricing = result["pricingPreview"]
    assert (
        pricing["ageSurchargePercentage"],
        pricing["totalSuccessFeePercentage"],
    ) == (
        15,
        30,
    )
    assert agency.cases() == []


def test_preview_of_uncovered_country_is_not_eligible(agency):
    result = preview(agency, "BR")
    assert result["isEligible"] is False and result["ineligibilityReason"]
    assert result["ineligibilityReasonCode"] == "NoGeographicCoverage"
    assert result["amountCheckUnavailable"] is False
    assert result["applicableMinimumAmount"] is None
    assert preview(agency, "DK")["ineligibilityReasonCode"] is None


def test_preview_prices_claim_lines_like_the_age_buckets(agency):
    claim = lines((300, days_ago(800)), (100, days_ago(10)))
    by_lines_result = preview(agency, "DK", amountToRecover=None, claimLines=claim)
    by_buckets = preview(
        agency, "DK", amountToRecover=400, amountToRecoverOver6Months=300,
        amountToRecoverOver12Months=300, amountToRecoverOver24Months=300,
    )  # fmt: skip
    assert by_lines_result["pricingPreview"] == by_buckets["pricingPreview"]
    assert by_lines_result["pricingPreview"]["ageSurchargePercentage"] == 11.25


def preview_response(agency, **changes):
    payload = {"currencyCode": "EUR", **changes}
    payload.setdefault("debtor", {"type": "Company", "countryAlpha2": "DK"})
    return agency.api("POST", "/cases/preview", json=payload)


PREVIEW_INVALID = {  # test id: (expected error key, request fields)
    "lines_and_due_date": ("DueDate", {"claimLines": lines((1, D)), "dueDate": D}),
    "lines_and_amount": (
        "ClaimLines", {"claimLines": lines((1, D)), "amountToRecover": 5}
    ),
    "line_reference_twice": (
        "ClaimLines[1].Reference",
        {"claimLines": [{"amount": 1, "dueDate": D, "reference": "X"}] * 2},
    ),
    "no_amount_nor_lines": ("AmountToRecover", {}),
    "state_not_two_letters": (
        "Debtor.StateAlpha2",
        {"amountToRecover": 5,
         "debtor": {"type": "Company", "countryAlpha2": "US", "stateAlpha2": "US-CA"}},
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    "key,changes", PREVIEW_INVALID.values(), ids=PREVIEW_INVALID.keys()
)
def test_preview_rejects_an_invalid_field_with_a_400(agency, key, changes):
    response = preview_response(agency, **changes)
    assert response.status_code == 400, response.text
    assert list(response.json()["errors"]) == [key]


def test_preview_accepts_a_two_letter_us_state(agency):
    us = {"type": "Company", "countryAlpha2": "US", "stateAlpha2": "CA"}
    response = preview_response(agency, amountToRecover=5, debtor=us)
    assert response.json()["result"]["jurisdiction"]["stateAlpha2"] == "CA"


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
