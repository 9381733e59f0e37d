"""Reading the sandbox agency's cases: lists and filters, files, payments, chats
and the price preview.

Shared pieces in ``sandbox_common.py``, the fixtures in ``conftest.py``.
"""

import hashlib

import pytest
import requests
from sandbox_common import D, days_ago, fetch, lines, new_case

pytestmark = pytest.mark.usefixtures("clean_agency")


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
