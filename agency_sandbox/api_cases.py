"""Customer API: account, cases, case payments, chats, files, timeline.

Handlers parse and validate, then change state in one transaction through ``cases``
and answer with the spec's DTOs. Endpoints of the spec the sandbox does not model
(contracts, coverage, divisions, leads, tasks, exclusive period) answer 501 so that a
client using them notices at once instead of reading an invented answer.
"""

import hashlib

from werkzeug.exceptions import RequestEntityTooLarge

from . import cases, dto, geo, pricing
from . import settings as settings_module
from .http import (
    HttpError,
    api_error,
    business_error,
    business_error_item,
    guid,
    json_response,
    not_found,
    page_data,
    query_int,
    query_values,
    read_json,
    validation_error,
)
from .reference import (
    DOCUMENT_TYPES,
    FILE_EXTENSIONS,
    MAX_FILE_BYTES,
    ROLE_CREDITOR,
    SORT_FIELDS,
    lifecycle_name,
)
from .store import load_doc
from .validation import (
    EMAIL,
    insensitive,
    validate_create_request,
    validate_preview_request,
)

NO_PARTNER = (
    "We don't have an exclusive pre-legal partner in the provided jurisdiction."
)


def load_case(db, case_id):
    """The case with ``case_id``; raise HttpError 400 (not a GUID) or 404."""
    case = cases.load(db, guid(case_id))
    if case is None:
        raise HttpError(not_found("Case"))
    return case


def me(sb, request):
    """``GET /me``: the creditor behind the API key."""
    return json_response(200, dto.me_dto(sb.current_settings()["creditor"]))


def users(sb, request):
    """``GET /users``: the creditor's team (ids usable as chat ``userId``)."""
    page = query_int(request, "Page", 1)
    size = query_int(request, "PageSize", 50, maximum=100)
    team = settings_module.team(sb.current_settings())
    chunk = team[(page - 1) * size : page * size]
    members = [{k: m[k] for k in ("id", "name", "email")} for m in chunk]
    payload = {"page": page_data(len(team), page, size, len(members)), "users": members}
    return json_response(200, payload)


def create_case(sb, request):
    """``POST /cases``: validate (400), check business rules (422), create (200)."""
    body = read_json(request)
    with sb.store.tx() as db:
        settings = sb.settings(db)
        team = {member["email"] for member in settings_module.team(settings)}
        errors, values = validate_create_request(body, sb.latest_day(), team)
        if values and values["creditorDivisionId"]:
            errors.setdefault("CreditorDivisionId", []).append(
                "No division with this id belongs to your account."
            )
        if errors:
            return validation_error(errors)
        problems, partner, pending = business_checks(sb, db, values, settings)
        if problems:
            signing = _signing_url(sb, problems, values["returnUrl"])
            return business_error(problems, signing)
        case = cases.create(
            sb, db, values, request.get_data(as_text=True), partner, pending
        )
        return json_response(200, dto.invoice_dto(case, settings, sb.base_url))


def business_checks(sb, db, values, settings):
    """422 reasons for a valid request: ``(problems, partner, pending_contracts)``."""
    problems = []
    missing = _missing_contracts(sb, settings)
    pending = bool(missing) and values["allowPendingContracts"]
    if missing and not pending:
        problems += missing
    debtor = values["debtor"]
    covered = settings["covered_countries"]
    partner = pricing.partner_for(debtor["countryAlpha2"], covered)
    if values["collectionPartnerId"]:
        chosen = pricing.partner_by_id(values["collectionPartnerId"], covered)
        partner = (
            chosen if chosen and partner and chosen["id"] == partner["id"] else None
        )
    if partner is None:
        problems.append(business_error_item("NoPartnerAvailable", NO_PARTNER))
    reference = values["creditorReference"]
    if reference and settings["duplicate_creditor_reference"] == "reject":
        existing = cases.find(db, "creditor_reference", reference)
        if existing:
            message = (
                f"A case with creditorReference '{reference}' already exists "
                f"(id {existing['id']}, reference {existing['reference']})."
            )
            problems.append(business_error_item("DuplicateCreditorReference", message))
    return problems, partner, pending


def _missing_contracts(sb, settings):
    url = f"{sb.base_url}/_sandbox/contracts/sign?contract="
    missing = []
    if not settings["sdca_signed"]:
        message = "The Standard Debt Collection Agreement (SDCA) is not signed."
        missing.append(
            business_error_item("MissingDebtCollectionContract", message, url + "sdca")
        )
    if not settings["poa_signed"]:
        message = "The Power of Attorney for the collection partner is not signed."
        missing.append(
            business_error_item("MissingPowerOfAttorney", message, url + "poa")
        )
    return missing


def _signing_url(sb, problems, return_url=None):
    """Combined signing URL when a contract is missing (``returnUrl`` embedded)."""
    if not any(p["type"].startswith("Missing") for p in problems):
        return None
    return dto.combined_signing_url(sb.base_url, return_url)


def preview_case(sb, request):
    """``POST /cases/preview``: eligibility, partner, required actions, pricing."""
    body = read_json(request)
    errors, values = validate_preview_request(body, sb.latest_day())
    if errors:
        return validation_error(errors)
    settings = sb.current_settings()
    debtor = values["debtor"]
    country, state = debtor["countryAlpha2"], debtor["stateAlpha2"]
    partner = pricing.partner_for(country, settings["covered_countries"])
    buckets = _preview_buckets(sb, values)
    actions = [
        {**item, "isBlocking": True} for item in _missing_contracts(sb, settings)
    ]
    result = {
        "isEligible": partner is not None,
        "ineligibilityReason": None if partner else NO_PARTNER,
        "ineligibilityReasonCode": None if partner else "NoGeographicCoverage",
        # The sandbox's partners declare no minimum and it converts no currency.
        "applicableMinimumAmount": None,
        "applicableMinimumCurrencyCode": None,
        "amountCheckUnavailable": False,
        "partnerAssignment": _partner_assignment(partner),
        "requiredActions": actions,
        "jurisdiction": _jurisdiction(country, state),
        "pricingPreview": pricing.pricing_preview(
            settings["base_success_fee"],
            values["amountCents"],
            values["currency"],
            buckets,
        ),
        "requiresKycVerification": False,
        "hasKycOnFile": True,
        "signingHandoff": {
            "combinedSigningUrl": _signing_url(sb, actions, values["returnUrl"])
        }
        if actions
        else None,
    }
    return json_response(200, {"result": result})


def _preview_buckets(sb, values):
    """The age buckets a preview prices: from its claim lines, else its amount
    aged from its due date, else the buckets it gave."""
    buckets = values["buckets"]
    if values["claimLines"]:
        # The same ledger gives the same age buckets as on POST /cases.
        buckets = pricing.buckets_from_lines(values["claimLines"], sb.today())
    elif values["dueDate"]:
        buckets = pricing.buckets_from_due_date(
            values["amountCents"], values["dueDate"], sb.today()
        )
    return buckets


def _partner_assignment(partner):
    """A preview's ``partnerAssignment``: None when no partner covers the debtor."""
    if not partner:
        return None
    return {
        "collectionPartnerId": partner["id"],
        "partnerName": partner["name"],
        "partnerCountry": partner["country"],
    }


def _jurisdiction(country, state):
    """A preview's ``jurisdiction``, from the debtor's country and state."""
    return {
        "id": geo.jurisdiction_id(country, state),
        "name": geo.jurisdiction_name(country, state),
        "countryAlpha2": country,
        "stateAlpha2": state,
    }


def get_case(sb, request, case_id):
    """``GET /cases/{id}``."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        return json_response(200, dto.invoice_dto(case, sb.settings(db), sb.base_url))


def by_creditor_reference(sb, request, creditor_reference):
    """``GET /cases/by-creditor-reference/{creditorReference}``."""
    return _by(sb, "creditor_reference", creditor_reference, "creditor reference")


def by_case_reference(sb, request, case_reference):
    """``GET /cases/case-reference/{caseReference}``."""
    return _by(sb, "reference", case_reference.upper(), "reference")


def _by(sb, column, value, what):
    if not value.strip():
        return validation_error({column: [f"The {what} is missing."]})
    with sb.store.tx() as db:
        case = cases.find(db, column, value)
        if case is None:
            return api_error(404, "NotFound", f"No case found with this {what}.")
        return json_response(200, dto.invoice_dto(case, sb.settings(db), sb.base_url))


def list_cases(sb, request):
    """``GET /cases``: paging, the ``Statuses``/``Ids``/``DebtorIds`` filters, Sort."""
    page = query_int(request, "Page", 1)
    size = query_int(request, "PageSize", 10, maximum=100)
    where, args = _case_filters(request)
    order = _case_order(query_values(request, "Sort"))
    with sb.store.tx() as db:
        total = db.execute(f"SELECT COUNT(*) FROM cases{where}", args).fetchone()[0]  # noqa: S608
        rows = db.execute(
            f"SELECT doc FROM cases{where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
            [*args, size, (page - 1) * size],
        ).fetchall()
        settings = sb.settings(db)
    found = [dto.invoice_dto(load_doc(r), settings, sb.base_url) for r in rows]
    payload = {"page": page_data(total, page, size, len(found)), "cases": found}
    return json_response(200, payload)


def _case_filters(request):
    clauses, args = [], []
    statuses = query_values(request, "Statuses")
    names = [lifecycle_name(status) for status in statuses]
    if None in names:
        bad = statuses[names.index(None)]
        raise HttpError(validation_error({"Statuses": [f"Unknown status '{bad}'."]}))
    for column, values in (
        ("lifecycle", names),
        ("id", _guids(request, "Ids")),
        ("debtor_id", _guids(request, "DebtorIds")),
        ("division_id", _guids(request, "DivisionIds")),
    ):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            args += values
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def _guids(request, name):
    return [guid(value, name) for value in query_values(request, name)]


def _case_order(parts):
    """SQL ORDER BY for ``Field[:asc|desc]`` parts; unknown fields are ignored."""
    terms = []
    for part in parts:
        field, _, direction = part.partition(":")
        column = SORT_FIELDS.get(field.strip().lower())
        if column:
            desc = direction.strip().lower() == "desc"
            terms.append(f"{column} {'DESC' if desc else 'ASC'}")
    return ", ".join(terms or ["date_created DESC"]) + ", rowid ASC"


def case_payments(sb, request, case_id):
    """``GET /cases/{id}/payments``: every payment recorded (deleted ones excluded)."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        found = [dto.payment_dto(p, case) for p in cases.payments(db, case["id"])]
    return json_response(200, found)


def list_payments(sb, request):
    """``GET /Payments``: all payments of the account, newest first, paged."""
    page = query_int(request, "Page", 1)
    size = query_int(request, "PageSize", 10, maximum=100)
    with sb.store.tx() as db:
        everything = list(reversed(cases.payments(db)))
        chunk = everything[(page - 1) * size : page * size]
        found = [dto.payment_dto(p, cases.load(db, p["caseId"])) for p in chunk]
    payload = {"page": page_data(len(everything), page, size, len(found))}
    payload["payments"] = found
    return json_response(200, payload)


def get_payment(sb, request, payment_id):
    """``GET /Payments/{id}``."""
    with sb.store.tx() as db:
        row = db.execute(
            "SELECT doc FROM payments WHERE id = ? AND deleted_at IS NULL",
            (guid(payment_id),),
        ).fetchone()
        if row is None:
            return not_found("Payment")
        payment = load_doc(row)
        return json_response(
            200, dto.payment_dto(payment, cases.load(db, payment["caseId"]))
        )


def list_chats(sb, request, case_id):
    """``GET /cases/{id}/chats``."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        return json_response(
            200, [dto.chat_dto(c) for c in cases.chats(db, case["id"])]
        )


def send_chat(sb, request, case_id):
    """``POST /cases/{id}/chats``: a creditor message attributed to a team member."""
    body = insensitive(read_json(request)) or {}
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        member, errors = _chat_sender(body, settings_module.team(sb.settings(db)))
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            errors["Message"] = ["The Message field is required."]
        elif len(message) > 10000:
            errors["Message"] = ["The Message field must be at most 10000 characters."]
        if errors:
            return validation_error(errors)
        chat = cases.add_chat(sb, db, case, ROLE_CREDITOR, message, member)
    return json_response(200, dto.chat_dto(chat))


def _chat_sender(body, team):
    email, user_id = body.get("useremail"), body.get("userid")
    if not email and not user_id:
        return None, {"UserEmail": ["At least one of UserEmail or UserId is required."]}
    if email and (not isinstance(email, str) or not EMAIL.match(email)):
        return None, {"UserEmail": ["UserEmail is not a valid e-mail address."]}
    for member in team:
        if (email and member["email"] == email.lower()) or (
            not email and member["id"] == str(user_id).lower()
        ):
            return member, {}
    key = "UserEmail" if email else "UserId"
    return None, {key: ["No active member of your team has this identity."]}


def list_files(sb, request, case_id):
    """``GET /cases/{id}/files``."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        found = [
            dto.file_dto(meta, sb.base_url) for meta in cases.files(db, case["id"])
        ]
    return json_response(200, found)


def upload_file(sb, request, case_id):
    """``POST /cases/{id}/files``: multipart ``File`` (+ Description, DocumentType)."""
    with sb.store.tx() as db:
        load_case(db, case_id)
    upload, form = _multipart(request)
    content = upload.read()
    name = upload.filename or ""
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if len(content) > MAX_FILE_BYTES:
        return api_error(413, "PayloadTooLarge", "The file exceeds 25 MB.")
    if not content:
        return validation_error({"File": ["The file is empty."]})
    if extension not in FILE_EXTENSIONS:
        return api_error(415, "UnsupportedMediaType", f"'{extension}' is not allowed.")
    document_type = form.get("documenttype") or "OriginalInvoice"
    if document_type not in DOCUMENT_TYPES:
        message = f"DocumentType must be one of {', '.join(DOCUMENT_TYPES)}."
        return validation_error({"DocumentType": [message]})
    meta = {
        "fileName": name,
        "contentType": upload.mimetype,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": form.get("description"),
        "documentType": document_type,
    }
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        meta = cases.add_file(sb, db, case, meta, content)
    return json_response(200, dto.file_dto(meta, sb.base_url))


def _multipart(request):
    if request.mimetype != "multipart/form-data":
        message = "Send the file as multipart/form-data with a 'File' part."
        raise HttpError(validation_error({"File": [message]}))
    request.max_content_length = MAX_FILE_BYTES + 1024 * 1024
    try:
        uploads = {key.lower(): value for key, value in request.files.items()}
        form = {key.lower(): value for key, value in request.form.items()}
    except RequestEntityTooLarge:
        raise HttpError(
            api_error(413, "PayloadTooLarge", "The file exceeds 25 MB.")
        ) from None
    if "file" not in uploads:
        raise HttpError(validation_error({"File": ["The File field is required."]}))
    return uploads["file"], form


def get_timeline(sb, request, case_id):
    """``GET /cases/{id}/timeline``."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        rows = db.execute(
            "SELECT doc FROM timeline WHERE case_id = ? ORDER BY seq", (case["id"],)
        )
        items = [dto.timeline_item_dto(load_doc(row)) for row in rows]
    return json_response(200, {"items": items, "currentEngagementPhase": case["phase"]})


def get_validation(sb, request, case_id):
    """``GET /cases/{id}/validation``: what the partner asked the creditor for."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
    validation = case["validation"]
    payload = {
        "needsInfo": case["lifecycle"] == "NeedsAdditionalDetails",
        "creditorRespondedAt": validation["creditorRespondedAt"],
        "items": validation["items"],
    }
    return json_response(200, payload)


def not_implemented(sb, request, **_ignored):
    """An endpoint of the spec the sandbox does not model."""
    message = (
        f"The Debitura sandbox does not implement {request.method} {request.path}."
    )
    return api_error(501, "NotImplemented", message)


ROUTES = [
    ("/me", ["GET"], me),
    ("/users", ["GET"], users),
    ("/cases", ["POST"], create_case),
    ("/cases", ["GET"], list_cases),
    ("/cases/preview", ["POST"], preview_case),
    (
        "/cases/by-creditor-reference/<path:creditor_reference>",
        ["GET"],
        by_creditor_reference,
    ),
    ("/cases/case-reference/<case_reference>", ["GET"], by_case_reference),
    ("/cases/<case_id>", ["GET"], get_case),
    ("/cases/<case_id>/payments", ["GET"], case_payments),
    ("/cases/<case_id>/chats", ["GET"], list_chats),
    ("/cases/<case_id>/chats", ["POST"], send_chat),
    ("/cases/<case_id>/files", ["GET"], list_files),
    ("/cases/<case_id>/files", ["POST"], upload_file),
    ("/cases/<case_id>/timeline", ["GET"], get_timeline),
    ("/cases/<case_id>/validation", ["GET"], get_validation),
    ("/Payments", ["GET"], list_payments),
    ("/payments", ["GET"], list_payments),
    ("/Payments/<payment_id>", ["GET"], get_payment),
    ("/payments/<payment_id>", ["GET"], get_payment),
] + [
    (path, ["GET", "POST", "PUT", "PATCH", "DELETE"], not_implemented)
    for path in (
        "/cases/<case_id>/contract-status",
        "/cases/<case_id>/exclusive-period",
        "/cases/<case_id>/tasks",
        "/cases/<case_id>/quote-requests",
        "/cases/<case_id>/quote-requests/<path:rest>",
        "/contracts/<path:rest>",
        "/coverage",
        "/coverage/<path:rest>",
        "/divisions",
        "/divisions/<path:rest>",
        "/tasks",
    )
]
