"""Field validation of ``POST /cases`` and ``POST /cases/preview`` bodies.

Plain functions over the parsed JSON (numbers parsed as ``Decimal`` so that "at most
two decimals" is exact). They return the 400 errors keyed the way ASP.NET keys model
errors (``Debtor.Name``, ``ClaimLines[2].DueDate``) and the normalised values the case
is built from; no storage, no clock (the caller passes the latest acceptable date).

Property names match case-insensitively, as ASP.NET's JSON binding does. Unknown
properties are ignored. Amounts come back as integer cents.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from . import geo

MAX_CLAIM_LINES = 1000
EARLIEST_LINE_DUE_DATE = date(2000, 1, 1)
MAX_AMOUNT = Decimal("1000000000000")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BUCKETS = (
    ("amounttorecoverover6months", "AmountToRecoverOver6Months"),
    ("amounttorecoverover12months", "AmountToRecoverOver12Months"),
    ("amounttorecoverover24months", "AmountToRecoverOver24Months"),
)
DEBTOR_TYPES = {"company": "Company", "private": "Private", "person": "Private"}
DEBTOR_TEXTS = (
    ("contactperson", "ContactPerson", 200),
    ("companyregistrationnumber", "CompanyRegistrationNumber", 100),
    ("zipcode", "ZipCode", 50),
    ("state", "State", 200),
    ("phone", "Phone", 50),
)


@dataclass
class Checker:
    """Collects errors while reading values out of a case-insensitive JSON object."""

    latest_date: date
    errors: dict = field(default_factory=dict)

    def add(self, key, message):
        """Record ``message`` under the model-state ``key``."""
        self.errors.setdefault(key, []).append(message)

    def text(self, obj, name, key, max_len=None, required=False):
        """Return the trimmed string at ``name`` or None, checking type and length."""
        value = obj.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(key, f"The {key.split('.')[-1]} field is required.")
            return None
        if not isinstance(value, str):
            self.add(key, f"The {key} field must be a string.")
            return None
        if max_len and len(value) > max_len:
            self.add(key, f"The {key} field must be at most {max_len} characters long.")
            return None
        return value.strip()

    def amount(self, obj, name, key, required=False, positive=True):
        """Return the amount at ``name`` in cents, or None (absent or invalid)."""
        value = obj.get(name)
        if value is None:
            if required:
                self.add(key, f"The {key.split('.')[-1]} field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.add(key, f"The {key} field must be a number.")
            return None
        value = Decimal(value)
        if positive and value <= 0:
            self.add(key, f"'{key.split('.')[-1]}' must be greater than '0'.")
        elif value < 0:
            self.add(key, f"'{key.split('.')[-1]}' must not be negative.")
        elif value >= MAX_AMOUNT:
            self.add(key, f"'{key.split('.')[-1]}' must be less than {MAX_AMOUNT}.")
        elif value.as_tuple().exponent < -2 and value != value.quantize(
            Decimal("1.00")
        ):
            self.add(key, f"'{key.split('.')[-1]}' must have at most 2 decimals.")
        else:
            return int(value * 100)
        return None

    def day(self, obj, name, key, required=False, not_future=True):
        """Return the calendar date at ``name`` (ISO date or date-time), or None."""
        value = obj.get(name)
        if value is None:
            if required:
                self.add(key, f"The {key.split('.')[-1]} field is required.")
            return None
        parsed = parse_day(value)
        if parsed is None:
            self.add(key, f"The {key} field must be an ISO 8601 date.")
        elif not_future and parsed > self.latest_date:
            self.add(key, f"'{key.split('.')[-1]}' cannot be in the future.")
        else:
            return parsed
        return None

    def flag(self, obj, name, key):
        """Return the boolean at ``name`` (absent means False)."""
        value = obj.get(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add(key, f"The {key} field must be a boolean.")
            return False
        return value

    def guid(self, obj, name, key):
        """Return the GUID at ``name`` as a lower-case string, or None."""
        value = obj.get(name)
        if value is None:
            return None
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            self.add(key, f"The {key} field must be a GUID.")
            return None


def insensitive(obj):
    """Copy of a JSON object with lower-cased keys (None for a non-object)."""
    if not isinstance(obj, dict):
        return None
    return {str(key).lower(): value for key, value in obj.items()}


def parse_day(value):
    """Calendar date of an ISO ``YYYY-MM-DD`` or date-time string, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def validate_debtor(check, raw, preview=False):
    """Validate the debtor object; return its normalised dict (or None)."""
    debtor = insensitive(raw)
    if debtor is None:
        check.add("Debtor", "The Debtor field is required.")
        return None
    kind = check.text(debtor, "type", "Debtor.Type", required=True)
    if kind is not None and kind.lower() not in DEBTOR_TYPES:
        check.add("Debtor.Type", "Debtor.Type must be 'Company' or 'Private'.")
    country = check.text(debtor, "countryalpha2", "Debtor.CountryAlpha2", required=True)
    if country is not None and geo.country_code(country) is None:
        check.add("Debtor.CountryAlpha2", f"'{country}' is not an ISO 3166-1 code.")
    country = geo.country_code(country)
    state = None
    if country == "US":
        given = check.text(debtor, "statealpha2", "Debtor.StateAlpha2", required=True)
        state = geo.us_state_code(given)
        if given is not None and state is None:
            check.add("Debtor.StateAlpha2", f"'{given}' is not a US state.")
    values = {
        "type": DEBTOR_TYPES.get((kind or "").lower()),
        "countryAlpha2": country,
        "stateAlpha2": state,
    }
    if preview:
        return values
    values["name"] = check.text(debtor, "name", "Debtor.Name", 200, required=True)
    values["address"] = check.text(debtor, "address", "Debtor.Address", 400, True)
    values["city"] = check.text(debtor, "city", "Debtor.City", 200, required=True)
    for name, key, max_len in DEBTOR_TEXTS:
        values[key[0].lower() + key[1:]] = check.text(
            debtor, name, f"Debtor.{key}", max_len
        )
    email = check.text(debtor, "email", "Debtor.Email", 320)
    if email is not None and not EMAIL.match(email):
        check.add("Debtor.Email", "Debtor.Email is not a valid e-mail address.")
    values["email"] = email
    values["country"] = geo.COUNTRIES.get(country)
    return values


def validate_buckets(check, body, amount_cents):
    """Validate the optional age buckets against the total; return them in cents."""
    over6, over12, over24 = (
        check.amount(body, n, k, positive=False) for n, k in BUCKETS
    )
    given = {k: body.get(n) is not None for n, k in BUCKETS}
    if given["AmountToRecoverOver12Months"] != given["AmountToRecoverOver24Months"]:
        missing = "24" if given["AmountToRecoverOver12Months"] else "12"
        check.add(
            f"AmountToRecoverOver{missing}Months",
            "AmountToRecoverOver12Months and AmountToRecoverOver24Months must be "
            "provided together.",
        )
    if given["AmountToRecoverOver6Months"] and not given["AmountToRecoverOver12Months"]:
        check.add(
            "AmountToRecoverOver6Months",
            "AmountToRecoverOver6Months requires AmountToRecoverOver12Months and "
            "AmountToRecoverOver24Months.",
        )
    total = amount_cents or 0
    for value, key in ((over6, BUCKETS[0][1]), (over12, BUCKETS[1][1])):
        if value is not None and amount_cents is not None and value > total:
            check.add(key, f"{key} must be less than or equal to AmountToRecover.")
    if over24 is not None and over12 is not None and over24 > over12:
        check.add(BUCKETS[2][1], f"{BUCKETS[2][1]} must be ≤ {BUCKETS[1][1]}.")
    if over6 is not None and over12 is not None and over6 < over12:
        check.add(BUCKETS[0][1], f"{BUCKETS[0][1]} must be ≥ {BUCKETS[1][1]}.")
    if not any(given.values()):
        return None
    return {"over6": over6, "over12": over12, "over24": over24}


def validate_claim_lines(check, raw_lines):
    """Validate ``claimLines`` (``ClaimLineDto`` items); return the usable lines.

    A line is ``dueDate`` (required, 2000-01-01 or later, not in the future),
    ``amount`` (the outstanding balance: > 0, at most 2 decimals) and an optional
    ``reference``, which serves only to reject the same invoice sent twice; any
    other property is ignored, like every unknown property. The lines come back as
    ``{"dueDate", "amountCents"}`` for the caller to derive the total, the age
    buckets and the default case due date from; they are a pricing input only and
    are never stored.
    """
    if not isinstance(raw_lines, list):
        check.add("ClaimLines", "The ClaimLines field must be an array.")
        return []
    if not raw_lines:
        check.add("ClaimLines", "At least one claim line is required.")
    if len(raw_lines) > MAX_CLAIM_LINES:
        check.add("ClaimLines", f"At most {MAX_CLAIM_LINES} claim lines are accepted.")
        return []
    lines, seen = [], {}
    for index, raw in enumerate(raw_lines):
        prefix = f"ClaimLines[{index}]"
        line = insensitive(raw)
        if line is None:
            check.add(prefix, f"{prefix} must be an object.")
            continue
        due = check.day(line, "duedate", f"{prefix}.DueDate", required=True)
        if due is not None and due < EARLIEST_LINE_DUE_DATE:
            check.add(f"{prefix}.DueDate", "'DueDate' must be on or after 2000-01-01.")
            due = None
        amount = check.amount(line, "amount", f"{prefix}.Amount", required=True)
        reference = check.text(line, "reference", f"{prefix}.Reference")
        if reference is not None and reference in seen:
            check.add(
                f"{prefix}.Reference",
                f"Invoice '{reference}' is already on ClaimLines[{seen[reference]}]; "
                "send each invoice once.",
            )
        elif reference is not None:
            seen[reference] = index
        lines.append(
            {"dueDate": due.isoformat() if due else None, "amountCents": amount}
        )
    return lines


def _omitted_or_zero(value):
    """Whether ``amountToRecover`` may go with ``claimLines`` (absent or 0)."""
    return value is None or (
        isinstance(value, int | Decimal) and not isinstance(value, bool) and value == 0
    )


def _principal(check, body, preview=False):
    """Amount (cents), age buckets and claim lines of a create or preview request.

    With ``claimLines`` the total is their sum and ``amountToRecover`` must be
    omitted or 0; the age buckets (and, on the preview, ``dueDate``) must not be
    sent. Without them ``amountToRecover`` is required.
    """
    if body.get("claimlines") is None:
        amount = check.amount(body, "amounttorecover", "AmountToRecover", required=True)
        return amount, validate_buckets(check, body, amount), []
    if not _omitted_or_zero(body.get("amounttorecover")):
        check.add(
            "ClaimLines",
            "Send ClaimLines instead of AmountToRecover (omit it or send 0), not both.",
        )
    for name, key in BUCKETS:
        if body.get(name) is not None:
            check.add(key, f"{key} cannot be combined with ClaimLines.")
    if preview and body.get("duedate") is not None:
        check.add("DueDate", "DueDate cannot be combined with ClaimLines.")
    lines = validate_claim_lines(check, body["claimlines"])
    if not lines or any(
        line["amountCents"] is None or not line["dueDate"] for line in lines
    ):
        return None, None, lines
    return sum(line["amountCents"] for line in lines), None, lines


def validate_create_request(raw_body, latest_date, team_emails=()):
    """Validate a ``CreateCollectionCaseRequestApiViewModel``.

    :param raw_body: the parsed JSON body (numbers as Decimal)
    :param date latest_date: the latest date that is not "in the future"
    :param team_emails: lower-case e-mails ``assignedUserEmail`` may name
    :return: ``(errors, values)``; ``errors`` maps model keys to messages
    """
    body = insensitive(raw_body)
    check = Checker(latest_date)
    if body is None:
        check.add("$", "The request body must be a JSON object.")
        return check.errors, None
    values = _create_claim(check, body)
    assigned = check.text(body, "assigneduseremail", "AssignedUserEmail", 320)
    if assigned is not None and assigned.lower() not in team_emails:
        check.add("AssignedUserEmail", f"'{assigned}' is not an active team member.")
    return_url = check.text(body, "returnurl", "ReturnUrl", 2048)
    values.update(_create_details(check, body))
    values["assignedUserEmail"] = assigned.lower() if assigned else None
    # An unusable returnUrl is dropped silently, as the spec says.
    values["returnUrl"] = return_url if _absolute_http(return_url) else None
    check.flag(body, "skipcreationemails", "SkipCreationEmails")
    return check.errors, values


def _create_claim(check, body):
    """The claim of a create request: its currency, dates and principal (an
    amount with its age buckets, or claim lines)."""
    currency = check.text(body, "currencycode", "CurrencyCode", required=True)
    if currency is not None and currency.upper() not in geo.CURRENCIES:
        check.add("CurrencyCode", f"'{currency}' is not an ISO 4217 currency code.")
    invoice_date = check.day(body, "date", "Date", required=True)
    explicit_due = check.day(body, "duedate", "DueDate")
    if explicit_due and invoice_date and explicit_due < invoice_date:
        check.add("DueDate", "DueDate must be on or after Date.")
    amount, buckets, lines = _principal(check, body)
    # Without a case dueDate, the oldest line's due date becomes the case's, so the
    # claim date must not come after it (a 400 on Date, as the spec says).
    derived_due = None
    if amount is not None and lines:
        derived_due = parse_day(min(line["dueDate"] for line in lines))
    omitted_due = body.get("duedate") is None
    if derived_due and omitted_due and invoice_date and invoice_date > derived_due:
        check.add(
            "Date",
            "'Date' must not be later than the earliest ClaimLines due date "
            f"({derived_due.isoformat()}) when DueDate is omitted.",
        )
    due = explicit_due or derived_due or invoice_date
    return {
        "currency": (currency or "").upper(),
        "date": invoice_date.isoformat() if invoice_date else None,
        "dueDate": due.isoformat() if due else None,
        "amountCents": amount,
        "buckets": buckets,
        # A pricing input only: cases.create derives the buckets and drops them.
        "claimLines": lines,
    }


def _create_details(check, body):
    """The rest of a create request, in the order it is checked: texts, the
    debtor, the ids of the division and partner, and the flags."""
    return {
        "comments": check.text(body, "comments", "Comments", 4000),
        "claimDescription": check.text(
            body, "claimdescription", "ClaimDescription", 4000
        ),
        "creditorReference": check.text(
            body, "creditorreference", "CreditorReference", 50
        ),
        "tag": check.text(body, "tag", "Tag", 100),
        "debtor": validate_debtor(check, body.get("debtor")),
        "creditorDivisionId": check.guid(
            body, "creditordivisionid", "CreditorDivisionId"
        ),
        "collectionPartnerId": check.guid(
            body, "collectionpartnerid", "CollectionPartnerId"
        ),
        "skipDebituraVerification": check.flag(
            body, "skipdebituraverification", "SkipDebituraVerification"
        ),
        "allowPendingContracts": check.flag(
            body, "allowpendingcontracts", "AllowPendingContracts"
        ),
        "isTest": check.flag(body, "istest", "IsTest"),
    }


def validate_preview_request(raw_body, latest_date):
    """Validate a ``PreviewCaseRequestApiViewModel``; return ``(errors, values)``.

    The amount is ``amountToRecover`` (with optional age buckets or ``dueDate``) or
    ``claimLines``, which exclude the other three; the debtor is a
    ``PreviewDebtorDto`` whose codes are exactly two characters long.
    """
    body = insensitive(raw_body)
    check = Checker(latest_date)
    if body is None:
        check.add("$", "The request body must be a JSON object.")
        return check.errors, None
    currency = check.text(body, "currencycode", "CurrencyCode", required=True)
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        check.add("CurrencyCode", "CurrencyCode must be a 3-letter ISO 4217 code.")
    amount, buckets, lines = _principal(check, body, preview=True)
    due = check.day(body, "duedate", "DueDate")
    if due is not None and buckets is not None:
        check.add("DueDate", "DueDate cannot be combined with the age bucket fields.")
    return_url = check.text(body, "returnurl", "ReturnUrl", 2048)
    values = {
        "currency": (currency or "").upper(),
        "amountCents": amount,
        "buckets": buckets,
        "claimLines": lines,
        "dueDate": due,
        "debtor": _preview_debtor(check, body.get("debtor")),
        "returnUrl": return_url if _absolute_http(return_url) else None,
    }
    return check.errors, values


def _preview_debtor(check, raw):
    """``PreviewDebtorDto``: as ``DebtorDto`` for routing, but its ``stateAlpha2``
    is exactly two characters (the spec's min/max length), so ``US-CA`` or
    ``California``, which ``POST /cases`` accepts, are a 400 here."""
    values = validate_debtor(check, raw, preview=True)
    state = (insensitive(raw) or {}).get("statealpha2")
    key = "Debtor.StateAlpha2"
    if isinstance(state, str) and len(state.strip()) not in (0, 2):
        if key not in check.errors:
            check.add(key, f"The {key} field must be exactly 2 characters long.")
    return values


def _absolute_http(url):
    return bool(url) and re.match(r"^https?://[^\s/]+", url) and "\r" not in url
