"""Sandbox control API under ``/_sandbox/`` (not part of Debitura's API).

It plays the collection partner (activate, ask for details, pause, register and
delete payments, chat, close with a close code), shows everything the sandbox received
(cases with their create bodies, files, chats, idempotency keys, the request log with
the bodies as sent, webhook deliveries and their attempts), resets state, and sets
fault rules and settings. No API key is needed: the server listens on loopback by
default. Partner actions answer with the case as ``GET /cases/{id}`` shows it.
"""

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from . import __version__, cases, dto, faults, idempotency, lifecycle
from . import settings as settings_module
from .api_cases import load_case
from .http import (
    api_error,
    guid,
    json_response,
    not_found,
    plain,
    read_json,
    validation_error,
)
from .reference import (
    CHAT_ROLES,
    DISPUTE_STATUSES,
    PHASES,
    RECIPIENTS,
    ROLE_PARTNER,
    close_code_name,
)
from .store import load_doc
from .validation import Checker, insensitive

PARTNER_ACTIONS = ("activate", "request-details", "pause", "resume", "reopen", "close")


def _body(request):
    """Optional JSON body of a control request, keys matched case-insensitively."""
    if not request.get_data():
        return {}
    return insensitive(read_json(request)) or {}


def _partner(case):
    partner = case["partner"] or {}
    return {
        "name": f"{partner.get('name', 'Sandbox Collect')} Case Handler",
        "email": partner.get("officeEmail", "handler@sandbox-collect.example"),
        "userRelationId": 9000,
    }


def _actor(case):
    return ("Partner user", _partner(case)["name"])


def _case_response(sb, db, case):
    return json_response(200, dto.invoice_dto(case, sb.settings(db), sb.base_url))


def health(sb, request):
    """Liveness probe used by the test helpers."""
    payload = {"status": "ok", "baseUrl": sb.base_url, "version": __version__}
    return json_response(200, payload)


def reset(sb, request):
    """Delete all data; settings go back to defaults unless ``keepSettings``."""
    body = _body(request)
    sb.store.wipe()
    if not body.get("keepsettings"):
        with sb.store.tx() as db:
            settings_module.reset(db)
    return json_response(200, {"reset": True})


def get_settings(sb, request):
    """Current settings."""
    return json_response(200, sb.current_settings())


def patch_settings(sb, request):
    """Change settings (unknown keys and wrong types are a 400)."""
    changes = read_json(request)
    try:
        with sb.store.tx() as db:
            values = settings_module.patch(db, plain(changes))
    except settings_module.SettingsError as error:
        return api_error(400, "BadRequest", str(error))
    sb.notify()
    return json_response(200, values)


def list_faults(sb, request):
    """Fault rules, oldest first, with ``remaining`` and ``hits``."""
    with sb.store.tx() as db:
        return json_response(200, faults.all_rules(db))


def add_fault(sb, request):
    """Add a fault rule (see ``faults`` for kinds and parameters)."""
    try:
        rule = faults.build_rule(plain(read_json(request)))
    except faults.FaultError as error:
        return api_error(400, "BadRequest", str(error))
    with sb.store.tx() as db:
        faults.add(db, rule)
    return json_response(201, rule)


def clear_faults(sb, request):
    """Remove every fault rule."""
    with sb.store.tx() as db:
        db.execute("DELETE FROM faults")
    return json_response(204, None)


def delete_fault(sb, request, fault_id):
    """Remove one fault rule."""
    with sb.store.tx() as db:
        db.execute("DELETE FROM faults WHERE id = ?", (fault_id,))
    return json_response(204, None)


def list_cases(sb, request):
    """Every case as stored: create body and normalised values (without the claim
    lines, which are not stored), buckets, balances, partner..."""
    with sb.store.tx() as db:
        rows = db.execute("SELECT doc FROM cases ORDER BY rowid").fetchall()
    return json_response(200, [load_doc(row) for row in rows])


def get_case(sb, request, case_id):
    """One case as stored, with its payments (deleted too), chats and files."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        case["payments"] = cases.payments(db, case["id"], include_deleted=True)
        case["chats"] = cases.chats(db, case["id"])
        case["files"] = cases.files(db, case["id"])
    return json_response(200, case)


def partner_action(sb, request, case_id, action):
    """``POST /_sandbox/cases/{id}/{action}``: a lifecycle move by the partner.

    ``close`` takes ``closeCode`` (name or label) and ``comment``;
    ``request-details`` takes ``message`` (posted as a partner chat) and ``items``
    (``[{resolutionArea, description}]``).
    """
    if action not in PARTNER_ACTIONS:
        return not_found("Action")
    body = _body(request)
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        try:
            case = _apply(sb, db, case, action, body)
        except lifecycle.TransitionError as error:
            return api_error(409, "Conflict", str(error), "InvalidTransition")
        except ValueError as error:
            return api_error(400, "BadRequest", str(error))
        return _case_response(sb, db, case)


def _apply(sb, db, case, action, body):
    actor = _actor(case)
    if action == "close":
        code = close_code_name(body.get("closecode"))
        if code is None:
            raise ValueError("closeCode is required: a close-code name or label.")
        return cases.move(sb, db, case, "close", actor, code, body.get("comment"))
    if action == "request-details":
        message = body.get("message") or "Please provide additional details."
        items = body.get("items") or [
            {"resolutionArea": "CaseDetails", "description": message}
        ]
        case = cases.request_details(sb, db, case, items, actor)
        cases.add_chat(sb, db, case, ROLE_PARTNER, message, _partner(case))
        return cases.load(db, case["id"])
    return cases.move(sb, db, case, action, actor)


def register_payment(sb, request, case_id):
    """Register a payment: ``amount``, ``currency``, ``recipient``, ``method``,
    ``date``, ``commission`` (the partner's success fee, kept for inspection)."""
    body = _body(request)
    check = Checker(sb.latest_day())
    amount = check.amount(body, "amount", "Amount", required=True)
    commission = check.amount(body, "commission", "Commission", positive=False)
    day = check.day(body, "date", "Date", not_future=False)
    recipient = body.get("recipient") or RECIPIENTS[0]
    if recipient not in RECIPIENTS:
        check.add("Recipient", f"recipient must be one of {', '.join(RECIPIENTS)}.")
    if check.errors:
        return validation_error(check.errors)
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        payment = {
            "amountCents": amount,
            "currency": str(body.get("currency") or case["currency"]).upper(),
            "recipient": recipient,
            "method": body.get("method") or "BankTransfer",
            "date": (day or sb.today()).isoformat(),
            "commissionCents": commission,
        }
        payment = cases.pay(sb, db, case, payment, _actor(case))
        return _payment_response(sb, db, payment, case["id"])


def _payment_response(sb, db, payment, case_id):
    case = cases.load(db, case_id)
    payload = {
        "payment": dto.payment_dto(payment, case),
        "stored": payment,
        "case": dto.invoice_dto(case, sb.settings(db), sb.base_url),
    }
    return json_response(200, payload)


def delete_payment(sb, request, case_id, payment_id):
    """Delete (reverse) a payment; ``payment.deleted`` is sent."""
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        payment = cases.unpay(sb, db, case, guid(payment_id), _actor(case))
        if payment is None:
            return not_found("Payment")
        return _payment_response(sb, db, payment, case["id"])


def partner_chat(sb, request, case_id):
    """Post a chat message as the partner (``role`` 0, or 2 for managed-by-partner)."""
    body = _body(request)
    message, role = body.get("message"), body.get("role", ROLE_PARTNER)
    if not isinstance(message, str) or not message.strip():
        return validation_error({"Message": ["The Message field is required."]})
    if role not in CHAT_ROLES or role == 1:
        return validation_error({"Role": ["role must be 0 (Partner) or 2."]})
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        chat = cases.add_chat(sb, db, case, role, message, _partner(case))
    return json_response(200, dto.chat_dto(chat))


def adjust(sb, request, case_id):
    """Change ``phase``, ``disputeStatus`` or add ``interest``/``reminderFees``/
    ``collectionFees`` (amounts in the case currency); no webhook is sent."""
    body = _body(request)
    check = Checker(sb.latest_day())
    changes = {}
    for name, key in (
        ("interest", "interest"),
        ("reminderfees", "reminderFees"),
        ("collectionfees", "collectionFees"),
    ):
        value = check.amount(body, name, key)
        if value is not None:
            changes[key] = value
    for name, key, allowed in (
        ("phase", "phase", PHASES),
        ("disputestatus", "disputeStatus", DISPUTE_STATUSES),
    ):
        if name in body:
            if body[name] not in allowed and body[name] is not None:
                check.add(key, f"{key} must be one of {list(allowed)} or null.")
            changes[key] = body[name]
    if check.errors:
        return validation_error(check.errors)
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        case = cases.adjust(sb, db, case, changes, _actor(case))
        return _case_response(sb, db, case)


def list_files(sb, request):
    """Every uploaded file: case, name, content type, size, SHA-256, type."""
    with sb.store.tx() as db:
        return json_response(200, cases.files(db))


def file_content(sb, request, file_id):
    """The bytes of an uploaded file (also the ``url`` of ``CaseFileDto``)."""
    with sb.store.tx() as db:
        row = db.execute(
            "SELECT doc, content FROM files WHERE id = ?", (file_id,)
        ).fetchone()
    if row is None:
        return not_found("File")
    meta = load_doc(row)
    response = Response(row["content"], content_type=meta["contentType"])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{meta["fileName"]}"'
    )
    return response


def idempotency_records(sb, request):
    """Stored ``Idempotency-Key`` records with their replayable responses."""
    with sb.store.tx() as db:
        return json_response(200, idempotency.records(db))


def request_log(sb, request):
    """Requests received (secret headers masked); ``method``/``path`` filters."""
    method = (request.args.get("method") or "").upper()
    path = request.args.get("path")
    with sb.store.tx() as db:
        rows = db.execute("SELECT seq, doc FROM requests_log ORDER BY seq").fetchall()
    entries = []
    for row in rows:
        entry = {"seq": row["seq"], **load_doc(row)}
        if (not method or entry["method"] == method) and (
            not path or entry["path"] == path
        ):
            entries.append(entry)
    return json_response(200, entries)


def clear_request_log(sb, request):
    """Forget the request log."""
    with sb.store.tx() as db:
        db.execute("DELETE FROM requests_log")
    return json_response(204, None)


def webhook_state(sb, request):
    """Subscriptions (with secrets), delivery records with their attempts, and
    ``busy``: whether a delivery is due, held back or on the wire."""
    with sb.store.tx() as db:
        subs = [
            load_doc(r) for r in db.execute("SELECT doc FROM webhooks ORDER BY rowid")
        ]
        active = {sub["id"] for sub in subs if sub["isActive"]}
        records = [
            dict(r) for r in db.execute("SELECT * FROM webhook_events ORDER BY rowid")
        ]
        attempts = {}
        for row in db.execute(
            "SELECT record_id, doc FROM webhook_attempts ORDER BY seq"
        ):
            attempts.setdefault(row["record_id"], []).append(load_doc(row))
    for record in records:
        record["attempts"] = attempts.get(record["id"], [])
    busy = any(
        r["state"] == "delivering"
        or (r["state"] == "pending" and r["subscription_id"] in active)
        for r in records
    )
    payload = {"subscriptions": subs, "deliveries": records, "busy": busy}
    return json_response(200, payload)


def sign_contracts(sb, request):
    """Sign the SDCA and/or PoA (``contract=sdca|poa``, both by default); cases
    waiting in ``PendingContractSigning`` move on to verification."""
    contract = (request.args.get("contract") or "").lower()
    changes = {}
    if contract in ("", "sdca"):
        changes["sdca_signed"] = True
    if contract in ("", "poa"):
        changes["poa_signed"] = True
    with sb.store.tx() as db:
        values = settings_module.patch(db, changes)
        moved = []
        if values["sdca_signed"] and values["poa_signed"]:
            rows = db.execute(
                "SELECT id FROM cases WHERE lifecycle = 'PendingContractSigning'"
            ).fetchall()
            for row in rows:
                case = cases.load(db, row["id"])
                cases.move(sb, db, case, "contracts-signed", ("System", None))
                moved.append(case["id"])
    return_url = request.args.get("returnUrl")
    if request.method == "GET" and return_url:
        # A person following the combined signing URL lands back in their app.
        return redirect(return_url)
    return json_response(200, {"signed": sorted(changes), "casesReleased": moved})


def today(sb, request):
    """Dates the sandbox judges "in the future" against (see README)."""
    latest = sb.latest_day()
    payload = {"todayUtc": sb.today().isoformat(), "latestAccepted": latest.isoformat()}
    return json_response(200, payload)


ROUTES = [
    ("/_sandbox/health", ["GET"], health),
    ("/_sandbox/reset", ["POST"], reset),
    ("/_sandbox/settings", ["GET"], get_settings),
    ("/_sandbox/settings", ["PATCH"], patch_settings),
    ("/_sandbox/faults", ["GET"], list_faults),
    ("/_sandbox/faults", ["POST"], add_fault),
    ("/_sandbox/faults", ["DELETE"], clear_faults),
    ("/_sandbox/faults/<fault_id>", ["DELETE"], delete_fault),
    ("/_sandbox/cases", ["GET"], list_cases),
    ("/_sandbox/cases/<case_id>", ["GET"], get_case),
    ("/_sandbox/cases/<case_id>/payments", ["POST"], register_payment),
    ("/_sandbox/cases/<case_id>/payments/<payment_id>", ["DELETE"], delete_payment),
    ("/_sandbox/cases/<case_id>/chats", ["POST"], partner_chat),
    ("/_sandbox/cases/<case_id>/adjust", ["POST"], adjust),
    ("/_sandbox/cases/<case_id>/<action>", ["POST"], partner_action),
    ("/_sandbox/files", ["GET"], list_files),
    ("/_sandbox/files/<file_id>/content", ["GET"], file_content),
    ("/_sandbox/idempotency", ["GET"], idempotency_records),
    ("/_sandbox/requests", ["GET"], request_log),
    ("/_sandbox/requests", ["DELETE"], clear_request_log),
    ("/_sandbox/webhooks", ["GET"], webhook_state),
    ("/_sandbox/contracts/sign", ["GET", "POST"], sign_contracts),
    ("/_sandbox/today", ["GET"], today),
]
