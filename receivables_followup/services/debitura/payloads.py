"""Our claims as Debitura request bodies, Debitura's answers as plain dataclasses.

Request bodies follow ``CreateCollectionCaseRequestApiViewModel`` and
``PreviewCaseRequestApiViewModel`` of the spec. A claim is sent as ``claimLines``
(``{"dueDate", "amount", "reference"}``, one per unpaid invoice, ``amount`` the
outstanding balance), never with ``amountToRecover``, the age buckets or a case
``dueDate``: the agency derives them from the lines. The spec says claim lines are
a pricing input the collecting partner never sees, so ``comments`` carries the
per-invoice breakdown too.

Answers are read leniently: a missing field is None, names and labels of the
lifecycle and close code are both understood.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from . import const

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Debtor:
    """Who owes the claim (``DebtorDto``)."""

    is_company: bool
    name: str
    address: str = ""
    zip: str = ""
    city: str = ""
    country_code: str = ""
    #: a US state's two-letter code, sent for US debtors only (the spec ignores
    #: the free-text ``state`` there and requires ``stateAlpha2``)
    state_code: str = ""
    email: str = ""
    phone: str = ""
    #: VAT or company registration number (``companyRegistrationNumber``)
    vat: str = ""
    contact_person: str = ""


class ClaimLine(NamedTuple):
    """One unpaid invoice: a ``(reference, due_date, amount)`` tuple works too."""

    reference: str
    due_date: date
    #: the outstanding balance, net of payments and credit notes
    amount: float | Decimal


@dataclass(frozen=True)
class Claim:
    """One debtor's unpaid invoices in one currency, as one agency case."""

    creditor_reference: str | None
    currency: str
    date: date | None
    debtor: Debtor
    lines: list = field(default_factory=list)
    comments: str | None = None
    is_test: bool = False
    tag: str | None = None
    assigned_user_email: str | None = None
    #: named in the breakdown the partner reads
    creditor_name: str | None = None

    @property
    def claim_lines(self):
        """The lines as :class:`ClaimLine`, fully settled ones left out (the spec
        wants every amount above zero)."""
        lines = (ClaimLine._make(line) for line in self.lines)
        return [line for line in lines if money(line.amount) > 0]

    @property
    def total(self):
        return float(sum(_cents(line.amount) for line in self.claim_lines))


@dataclass(frozen=True)
class AgencyCase:
    """A case as the agency reports it (``InvoiceDto``)."""

    agency_id: str | None
    #: the agency's own human reference (e.g. ``Q8OAXF3W``)
    reference: str | None
    creditor_reference: str | None
    #: lifecycle and close code as the agency wrote them (labels)
    lifecycle: str | None
    close_code: str | None
    #: our state (``const.LIFECYCLE_STATES``); None: leave the case's state alone
    state: str | None
    currency: str | None = None
    #: principal handed over (``grossAmount``)
    amount_handed: float | None = None
    #: what the debtor still owes, fees included (``remainder``)
    amount_remaining: float | None = None
    #: paid so far: handed + fees - remaining (the DTO has no such field)
    amount_collected: float | None = None
    #: interest and fees the agency added (``totalAddedFees``)
    amount_fees: float | None = None
    amount_interest: float | None = None
    amount_reminder_fees: float | None = None
    amount_collection_fees: float | None = None
    #: principal still owed (``allocationOutstanding.principal``)
    principal_remaining: float | None = None
    #: success fee in percent (``preLegalSuccessFee``)
    success_fee_rate: float | None = None
    exclusive_period_end: date | None = None
    updated_at: datetime | None = None
    is_test: bool = False
    needs_info: bool = False
    phase: str | None = None


@dataclass(frozen=True)
class AgencyPayment:
    """A payment the agency recorded on a case (``PaymentDto``)."""

    payment_id: str | None
    case_id: str | None
    date: date | None
    amount: float | None
    currency: str | None
    #: who received the money: the partner or the creditor directly
    recipient: str | None
    method: str | None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    #: the invoice the payment settles, when the agency names one (Debitura's
    #: ``PaymentDto`` names the case only: its ``invoice.reference`` is the
    #: case's reference, not one of our invoices)
    invoice_reference: str | None = None
    #: the success fee the agency withheld, when it states it (a report's
    #: commission column); None: the case's rate applies
    commission: float | None = None


@dataclass(frozen=True)
class RequiredAction:
    """Something to do before the agency accepts the case (``RequiredActionDto``)."""

    type: str | None
    message: str | None
    solution_url: str | None
    is_blocking: bool = True


@dataclass(frozen=True)
class AgencyPreview:
    """What the agency would do with a claim (``PreviewResultDto``)."""

    eligible: bool
    partner_name: str | None
    #: success fee in percent, age surcharge included
    fee_rate: float | None
    #: fee_rate applied to the claim's total, when the total was given
    fee_amount: float | None
    required_actions: list = field(default_factory=list)
    ineligibility_code: str | None = None
    minimum_amount: float | None = None
    signing_url: str | None = None
    #: one sentence for the user: why not, what to do first, or how it is priced
    note: str | None = None


# ----------------------------------------------------------------------
# requests
# ----------------------------------------------------------------------
def naive_utc(moment):
    """An agency's timestamp as Odoo stores datetimes: naive UTC."""
    if not moment:
        return None
    if moment.tzinfo:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def money(value):
    """An amount as the JSON number the agency accepts: at most 2 decimals
    (half-up, computed on the decimal text so 0.1 + 0.2 is 0.3)."""
    return float(_cents(value))


def _cents(value):
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def case_body(claim):
    """The ``POST /cases`` body of a :class:`Claim`."""
    lines = claim.claim_lines
    body = {
        "currencyCode": (claim.currency or "").upper(),
        "date": _claim_date(claim, lines).isoformat(),
        "creditorReference": claim.creditor_reference,
        "debtor": debtor_body(claim.debtor),
        "claimLines": [claim_line_body(line) for line in lines],
        "comments": breakdown(claim),
        "isTest": bool(claim.is_test),
        "tag": claim.tag,
        "assignedUserEmail": claim.assigned_user_email,
    }
    return _without_empty(body)


def _claim_date(claim, lines):
    # Without a case dueDate the agency takes the oldest line's due date and
    # refuses a claim date after it: an invoice dated after its due date must
    # not turn the whole claim into a 400.
    oldest_due = min((line.due_date for line in lines), default=None)
    candidates = [day for day in (claim.date, oldest_due) if day]
    return min(candidates) if candidates else date.today()


def claim_line_body(line):
    """One ``ClaimLineDto``."""
    return {
        "dueDate": line.due_date.isoformat(),
        "amount": money(line.amount),
        "reference": line.reference or None,
    }


def debtor_body(debtor):
    """The ``DebtorDto`` of a :class:`Debtor`."""
    country = (debtor.country_code or "").upper()
    body = {
        "type": const.DEBTOR_COMPANY if debtor.is_company else const.DEBTOR_PRIVATE,
        "name": debtor.name,
        "contactPerson": debtor.contact_person if debtor.is_company else None,
        "companyRegistrationNumber": debtor.vat,
        "address": debtor.address,
        "zipCode": debtor.zip,
        "city": debtor.city,
        "countryAlpha2": country,
        "stateAlpha2": _us_state(debtor.state_code) if country == "US" else None,
        "email": debtor.email,
        "phone": debtor.phone,
    }
    return _without_empty(body)


def _us_state(code):
    # Odoo stores "CA"; "US-CA" is accepted by the agency too, keep it short
    return (code or "").upper().removeprefix("US-") or None


def preview_body(claim_or_body):
    """The ``POST /cases/preview`` body of a :class:`Claim` (or of a body built
    by :func:`case_body`): the spec's preview request has no room for the
    debtor's name or address, only what routes the claim and prices it."""
    body = (
        claim_or_body if isinstance(claim_or_body, dict) else case_body(claim_or_body)
    )
    debtor = body.get("debtor") or {}
    preview = {
        "currencyCode": body.get("currencyCode"),
        "debtor": _without_empty(
            {
                "type": debtor.get("type"),
                "countryAlpha2": debtor.get("countryAlpha2"),
                "stateAlpha2": debtor.get("stateAlpha2"),
            }
        ),
        "claimLines": body.get("claimLines"),
    }
    return _without_empty(preview)


def breakdown(claim):
    """``comments``: the claim's own comments, then one line per invoice and the
    total, cut to the agency's 4,000 characters (the last lines give way)."""
    lines = claim.claim_lines
    currency = (claim.currency or "").upper()
    amount = sum(_cents(line.amount) for line in lines)
    total = f"Total outstanding: {amount} {currency}"
    creditor = f" issued by {claim.creditor_name}" if claim.creditor_name else ""
    head = f"Unpaid invoices{creditor} (reference, due date, outstanding {currency}):"
    rows = [
        f"- {line.reference or '?'}, {line.due_date.isoformat()}, {_cents(line.amount)}"
        for line in lines
    ]
    intro = (claim.comments or "").strip()
    budget = const.MAX_COMMENTS - len(head) - len(total) - 40  # room for "and N more"
    if len(intro) > budget // 2:
        intro = intro[: budget // 2 - 1].rstrip() + "…"
    kept, used = [], len(intro)
    for row in rows:
        if used + len(row) + 1 > budget:
            break
        kept.append(row)
        used += len(row) + 1
    if len(kept) < len(rows):
        kept.append(f"- and {len(rows) - len(kept)} more invoices")
    listing = "\n".join([head, *kept, total])
    return f"{intro}\n\n{listing}" if intro else listing


def _without_empty(body):
    """Leave out what we do not know rather than send nulls and empty strings."""
    return {key: value for key, value in body.items() if value not in (None, "", [])}


# ----------------------------------------------------------------------
# answers
# ----------------------------------------------------------------------
def _key(value):
    """``"Pre-Legal Exhausted – No Payment"`` and ``"PreLegalExhaustedNoPayment"``
    -> ``"prelegalexhaustednopayment"``."""
    return re.sub(r"[^a-z0-9]", "", str(value or "").lower())


def _by_key(enumeration):
    keys = {}
    for name, label in enumeration.items():
        keys[_key(name)] = name
        keys[_key(label)] = name
    return keys


_LIFECYCLE_KEYS = _by_key(const.LIFECYCLES)
_CLOSE_CODE_KEYS = _by_key(const.CLOSE_CODES)


def lifecycle_name(value):
    """The lifecycle's enum name for a name or label, or None if unknown."""
    return _LIFECYCLE_KEYS.get(_key(value))


def close_code_name(value):
    """The close code's enum name for a name or label, or None if unknown."""
    return _CLOSE_CODE_KEYS.get(_key(value))


def case_state(lifecycle, close_code=None, remaining=None, collected=None):
    """Our case state for the agency's lifecycle and close code; None when the
    case should keep its state (``Merged``, or a lifecycle we do not know).

    A closed case whose code says nothing we know (``Other``, a new code, none)
    is judged by its amounts: nothing left to pay is paid, some money collected
    is partly paid, else uncollectable.
    """
    name = lifecycle_name(lifecycle)
    if name != "Closed":
        return const.LIFECYCLE_STATES.get(name)
    state = const.CLOSE_CODE_STATES.get(close_code_name(close_code))
    if state:
        return state
    if remaining is not None and remaining <= 0:
        return const.CLOSED_PAID
    if collected:
        return const.CLOSED_PARTLY_PAID
    return const.CLOSED_UNCOLLECTABLE


def parse_case(dto):
    """An :class:`AgencyCase` from an ``InvoiceDto``."""
    dto = dto or {}
    handed = _number(dto.get("grossAmount"))
    remaining = _number(dto.get("remainder"))
    fees = _number(dto.get("totalAddedFees"))
    collected = None
    if handed is not None and remaining is not None:
        collected = max(0.0, money(handed + (fees or 0.0) - remaining))
    outstanding = dto.get("allocationOutstanding") or {}
    return AgencyCase(
        agency_id=dto.get("id"),
        reference=dto.get("reference"),
        creditor_reference=dto.get("creditorReference"),
        lifecycle=dto.get("lifecycle"),
        close_code=dto.get("closeCode"),
        state=case_state(
            dto.get("lifecycle"), dto.get("closeCode"), remaining, collected
        ),
        currency=dto.get("currency"),
        amount_handed=handed,
        amount_remaining=remaining,
        amount_collected=collected,
        amount_fees=fees,
        amount_interest=_number(dto.get("interestFees")),
        amount_reminder_fees=_number(dto.get("reminderFees")),
        amount_collection_fees=_number(dto.get("collectionFees")),
        principal_remaining=_number(outstanding.get("principal")),
        success_fee_rate=_number(dto.get("preLegalSuccessFee")),
        exclusive_period_end=_date(dto.get("exclusivePeriodEndDate")),
        updated_at=parse_datetime(dto.get("dateUpdated") or dto.get("dateCreated")),
        is_test=bool(dto.get("isTestCase")),
        needs_info=bool((dto.get("validation") or {}).get("needsInfo")),
        phase=dto.get("currentEngagementPhase"),
    )


def parse_payment(dto):
    """An :class:`AgencyPayment` from a ``PaymentDto``."""
    dto = dto or {}
    invoice = dto.get("invoice") or {}
    return AgencyPayment(
        payment_id=dto.get("id"),
        case_id=invoice.get("invoiceId"),
        date=_date(dto.get("date")),
        amount=_number(dto.get("grossAmount")),
        currency=dto.get("currency"),
        recipient=dto.get("recipient"),
        method=dto.get("method"),
        created_at=parse_datetime(dto.get("dateCreated")),
        updated_at=parse_datetime(dto.get("dateUpdated")),
    )


def parse_preview(dto, claim_total=None):
    """An :class:`AgencyPreview` from a ``PreviewCaseResponseApiViewModel`` (or
    its ``result``).

    :param claim_total: the claim's total, to estimate the fee's amount (the
        preview gives the rate only)
    """
    result = (dto or {}).get("result", dto) or {}
    partner = result.get("partnerAssignment") or {}
    pricing = result.get("pricingPreview") or {}
    rate = _number(pricing.get("totalSuccessFeePercentage"))
    actions = [
        RequiredAction(
            type=item.get("type"),
            message=item.get("message"),
            solution_url=item.get("solutionUrl"),
            is_blocking=item.get("isBlocking", True) is not False,
        )
        for item in result.get("requiredActions") or []
        if isinstance(item, dict)
    ]
    eligible = bool(result.get("isEligible"))
    fee_amount = None
    if rate is not None and claim_total is not None:
        fee_amount = money(Decimal(str(claim_total)) * Decimal(str(rate)) / 100)
    return AgencyPreview(
        eligible=eligible,
        partner_name=partner.get("partnerName"),
        fee_rate=rate,
        fee_amount=fee_amount,
        required_actions=actions,
        ineligibility_code=result.get("ineligibilityReasonCode"),
        minimum_amount=_number(result.get("applicableMinimumAmount")),
        signing_url=(result.get("signingHandoff") or {}).get("combinedSigningUrl"),
        note=_preview_note(result, eligible, actions, pricing),
    )


def _preview_note(result, eligible, actions, pricing):
    if not eligible:
        reason = result.get("ineligibilityReason")
        return reason or result.get("ineligibilityReasonCode")
    if actions:
        return " ".join(action.message for action in actions if action.message) or None
    return pricing.get("pricingSourceDescription")


def _number(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_datetime(value):
    """An aware UTC datetime from the API's ISO 8601 text (a naive one is UTC)."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _date(value):
    """The calendar date of a ``date-time`` the API sends for a day
    (``2025-02-15T00:00:00Z``)."""
    moment = parse_datetime(value)
    return moment.date() if moment else None
