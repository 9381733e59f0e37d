"""Records rendered as the spec's DTOs (field names and casing as in the spec).

Dates the client sent as calendar dates (``date``, ``dueDate``) come back as UTC
midnight date-times; every other timestamp is UTC with microseconds and a ``Z``.
``lifecycle`` and ``closeCode`` are the labels the API returns, not the enum names.
"""

from urllib.parse import quote

from .http import cents
from .reference import CHAT_ROLES, CLOSE_CODES, LIFECYCLES


def day_time(day):
    """``2025-01-15`` -> ``2025-01-15T00:00:00Z`` (None stays None)."""
    return f"{day}T00:00:00Z" if day else None


def invoice_dto(case, settings, base_url):
    """``InvoiceDto`` of a case."""
    values, fees, outstanding = case["values"], case["fees"], case["outstanding"]
    signing = _signing_url(case, base_url)
    assigned = _assigned_user(values.get("assignedUserEmail"), settings)
    return {
        "id": case["id"],
        "dateCreated": case["dateCreated"],
        "dateUpdated": case["dateUpdated"],
        "reference": case["reference"],
        "creditorReference": case["creditorReference"],
        "creditorComments": values["comments"],
        "claimDescription": values["claimDescription"],
        "grossAmount": cents(case["grossCents"]),
        "remainder": cents(sum(outstanding.values())),
        "interestFees": cents(fees["interest"]),
        "reminderFees": cents(fees["reminderFees"]),
        "collectionFees": cents(fees["collectionFees"]),
        "totalAddedFees": cents(sum(fees.values())),
        "currency": case["currency"],
        "isTestCase": case["isTest"],
        "lifecycle": LIFECYCLES[case["lifecycle"]],
        "dueDate": day_time(case["dueDate"]),
        "date": day_time(case["date"]),
        "dateFinished": case["dateFinished"],
        "dateCollectionStarted": case["dateCollectionStarted"],
        "closeCode": CLOSE_CODES.get(case["closeCode"]),
        "currentEngagementPhase": case["phase"],
        "claimType": "Unpaid Invoice",
        "creditorDivisionId": case["divisionId"],
        "debtor": debtor_dto(values["debtor"]),
        "collectionPartner": partner_dto(case["partner"]),
        "creditor": creditor_dto(settings["creditor"]),
        "bankAccount": bank_account_dto(case["currency"], settings["creditor"]),
        "blendedAgeUpliftPoints": case["blendedAgeUpliftPoints"],
        "preLegalSuccessFee": case["preLegalSuccessFee"],
        "solutionUrl": signing,
        "signingHandoff": {"combinedSigningUrl": signing} if signing else None,
        "exclusivePeriodEndDate": case["exclusivePeriodEnd"],
        "disputeStatus": case["disputeStatus"],
        "validation": {"needsInfo": case["lifecycle"] == "NeedsAdditionalDetails"},
        "assignedUser": assigned,
        "allocationOutstanding": {
            "principal": cents(outstanding["principal"]),
            "interest": cents(outstanding["interest"]),
            "reminderFees": cents(outstanding["reminderFees"]),
            "collectionFees": cents(outstanding["collectionFees"]),
        },
    }


def _signing_url(case, base_url):
    if case["lifecycle"] != "PendingContractSigning":
        return None
    return combined_signing_url(base_url, case["values"].get("returnUrl"))


def combined_signing_url(base_url, return_url=None):
    """The sandbox's signing page, with the caller's ``returnUrl`` URL-encoded."""
    url = f"{base_url}/_sandbox/contracts/sign"
    return f"{url}?returnUrl={quote(return_url, safe='')}" if return_url else url


def _assigned_user(email, settings):
    if not email:
        return None
    for member in settings["team"]:
        if member["email"].lower() == email:
            return {"email": email, "name": member["name"]}
    return {"email": email, "name": None}


def debtor_dto(debtor):
    """``DebtorDto`` from the normalised debtor of the create request."""
    keys = (
        "type", "name", "contactPerson", "companyRegistrationNumber", "address",
        "zipCode", "city", "state", "stateAlpha2", "countryAlpha2", "country",
        "email", "phone",
    )  # fmt: skip
    return {key: debtor.get(key) for key in keys}


def partner_dto(partner):
    """``CollectionPartnerDto`` (None when no partner is assigned)."""
    if not partner:
        return None
    return {
        "name": partner["name"],
        "officeEmail": partner["officeEmail"],
        "officePhone": partner["officePhone"],
        "publicSite": partner["publicSite"],
        "surveyCadenceMode": 0,
    }


def creditor_dto(creditor):
    """``CreditorDto`` of the sandbox's one creditor."""
    return {**me_dto(creditor), "division": None}


def me_dto(creditor):
    """``CreditorMeApiDTO``."""
    keys = (
        "id", "companyName", "companyRegistrationNumber", "address", "zipCode",
        "city", "state", "country", "officeEmail", "officePhone",
    )  # fmt: skip
    return {key: creditor.get(key) for key in keys}


def bank_account_dto(currency, creditor):
    """``BankAccountDto``: the creditor's (fictitious) payout account."""
    return {
        "id": 1,
        "label": f"Main {currency} Account",
        "scheme": "IBAN",
        "currencyCode": currency,
        "bankCountryCode": "DK",
        "accountHolderName": creditor["companyName"],
        "iban": "DK5000400440116243",
        "bic": "SANDDKKK",
        "accountNumber": None,
        "localIdentifier": None,
        "localIdentifierType": None,
        "bankName": "Sandbox Bank",
        "bankAddress": None,
        "bankCity": "Copenhagen",
        "bankZipCode": None,
        "bankState": None,
    }


def payment_dto(payment, case):
    """``PaymentDto``."""
    return {
        "id": payment["id"],
        "dateCreated": payment["dateCreated"],
        "dateUpdated": payment["dateUpdated"],
        "date": day_time(payment["date"]),
        "grossAmount": cents(payment["amountCents"]),
        "recipient": payment["recipient"],
        "method": payment["method"],
        "currency": payment["currency"],
        "invoice": {
            "status": LIFECYCLES[case["lifecycle"]],
            "reference": case["reference"],
            "invoiceId": case["id"],
        },
    }


def chat_dto(chat):
    """``ChatDto``."""
    user = chat["user"]
    first, _, last = (user.get("name") or "").partition(" ")
    return {
        "id": chat["id"],
        "dateCreated": chat["dateCreated"],
        "dateUpdated": chat["dateUpdated"],
        "role": chat["role"],
        "roleLabel": CHAT_ROLES[chat["role"]],
        "message": chat["message"],
        "isSeen": chat["isSeen"],
        "user": {
            "id": user.get("userRelationId", 0),
            "dateCreated": None,
            "dateUpdated": None,
            "firstName": first or None,
            "lastName": last or None,
            "email": user.get("email"),
        },
    }


def file_dto(meta, base_url):
    """``CaseFileDto``; ``url`` downloads the stored bytes from the sandbox."""
    return {
        "id": meta["id"],
        "dateCreated": meta["dateCreated"],
        "dateUpdated": meta["dateUpdated"],
        "caseId": meta["caseId"],
        "entityType": "Invoice",
        "entityId": meta["caseId"],
        "fileName": meta["fileName"],
        "url": f"{base_url}/_sandbox/files/{meta['id']}/content",
        "description": meta["description"],
        "documentType": meta["documentType"],
    }


def timeline_item_dto(item):
    """``TimelineItemDto``; ``relatedCases`` is for merge entries, which the sandbox
    never writes, so it is always null."""
    return {
        "date": item["date"],
        "type": item["type"],
        "title": item["title"],
        "description": item["description"],
        "relatedCases": item.get("relatedCases"),
        "actor": item["actor"],
    }


def webhook_dto(sub, with_secret=False):
    """``WebhookDto``; the secret only when just created or regenerated."""
    keys = ("id", "url", "events", "isActive", "createdUtc", "updatedUtc")
    dto = {key: sub[key] for key in keys}
    dto["disabledReason"] = sub["disabledReason"]
    dto["secret"] = sub["secret"] if with_secret else None
    dto["isTestMode"] = sub["isTestMode"]
    return dto


def event_dto(row):
    """``WebhookEventDto`` of a delivery record."""
    return {
        "id": row["id"],
        "subscriptionId": row["subscription_id"],
        "caseId": row["case_id"],
        "eventType": row["event_type"],
        "payload": row["payload"],
        "createdAt": row["created_at"],
        "deliveredAt": row["delivered_at"],
        "attemptCount": row["attempt_count"],
        "lastResponseCode": row["last_response_code"],
        "lastError": row["last_error"],
    }
