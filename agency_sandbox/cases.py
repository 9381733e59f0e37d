"""Cases and what happens to them: creation, lifecycle moves, money, chats, files.

Each function changes one case inside the caller's transaction, stamps its
``dateUpdated``, writes a timeline entry and queues the webhook events the change
produces: ``case.created``; ``case.updated`` for every lifecycle move (plus
``case.closed`` on closure); ``payment.created`` / ``payment.deleted``;
``chat.created``. Files, phase and fee changes update the case without an event, as
the spec has none for them.

Money is kept in cents per bucket (principal, interest, reminder fees, collection
fees). A payment in the case's currency is allocated to collection fees, reminder fees,
interest and then principal; deleting it gives the same amounts back. A payment in
another currency is recorded as reported but moves no balance (the sandbox converts
nothing), which lets a connector's currency checks be exercised.
"""

import json
import secrets
import string
import uuid
from datetime import datetime

from . import events, lifecycle, pricing
from .reference import CLOSE_CODES, LIFECYCLES, rank
from .store import dumps, load_doc

BUCKET_ORDER = ("collectionFees", "reminderFees", "interest", "principal")
DEBTOR_NAMESPACE = uuid.UUID("3a9e5d1c-7b2f-4e80-9c6d-1f2a3b4c5d6e")
REFERENCE_ALPHABET = string.ascii_uppercase + string.digits


def load(db, case_id):
    """The case with ``case_id``, or None."""
    row = db.execute("SELECT doc FROM cases WHERE id = ?", (case_id,)).fetchone()
    return load_doc(row)


def find(db, column, value):
    """The most recent case whose ``column`` equals ``value``."""
    row = db.execute(
        f"SELECT doc FROM cases WHERE {column} = ? ORDER BY rowid DESC LIMIT 1",  # noqa: S608
        (value,),
    ).fetchone()
    return load_doc(row)


def save(db, case):
    """Insert or replace the case with its filter and sort columns."""
    outstanding = case["outstanding"]
    db.execute(
        "INSERT OR REPLACE INTO cases (id, reference, creditor_reference, debtor_id, "
        "is_test, tag, division_id, lifecycle, lifecycle_rank, close_code, "
        "close_code_rank, date_created, date_updated, date_finished, "
        "date_collection_started, due_date, invoice_date, gross_cents, "
        "remainder_cents, interest_cents, reminder_fee_cents, collection_fee_cents, "
        "doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        (
            case["id"],
            case["reference"],
            case["creditorReference"],
            case["debtorId"],
            int(case["isTest"]),
            case["tag"],
            case["divisionId"],
            case["lifecycle"],
            rank(LIFECYCLES, case["lifecycle"]),
            case["closeCode"],
            rank(CLOSE_CODES, case["closeCode"]),
            case["dateCreated"],
            case["dateUpdated"],
            case["dateFinished"],
            case["dateCollectionStarted"],
            case["dueDate"],
            case["date"],
            case["grossCents"],
            sum(outstanding.values()),
            case["fees"]["interest"],
            case["fees"]["reminderFees"],
            case["fees"]["collectionFees"],
            dumps(case),
        ),
    )


def timeline(sb, db, case, kind, title, description, actor=("System", None)):
    """Append a ``TimelineItemDto`` to the case's timeline."""
    item = {
        "date": sb.clock.stamp(),
        "type": kind,
        "title": title,
        "description": description,
        "actor": {"type": actor[0], "name": actor[1]},
    }
    db.execute(
        "INSERT INTO timeline (case_id, doc) VALUES (?, ?)", (case["id"], dumps(item))
    )


def debtor_id(debtor):
    """Same debtor (type, name, country, registration number), same id."""
    key = "|".join(
        str(debtor.get(k) or "").strip().lower()
        for k in ("type", "name", "countryAlpha2", "companyRegistrationNumber")
    )
    return str(uuid.uuid5(DEBTOR_NAMESPACE, key))


def new_reference(db):
    """An unused 8-character case reference such as ``Q8OAXF3W``."""
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        if not db.execute(
            "SELECT 1 FROM cases WHERE reference = ?", (reference,)
        ).fetchone():
            return reference


def create(sb, db, values, raw_body, partner, pending_contracts):
    """Create the case a validated request describes; queue ``case.created``."""
    settings = sb.settings(db)
    now = sb.clock.stamp()
    # Claim lines are a pricing input only (spec): the total and the age buckets are
    # derived from them here, then the lines are dropped, not stored with the case.
    lines, given = values["claimLines"], values["buckets"]
    values = {key: value for key, value in values.items() if key != "claimLines"}
    buckets = _case_buckets(values, lines, given, sb.today())
    uplift = pricing.invoice_uplift_points(values["amountCents"], buckets)
    case = _new_case_head(
        db, values, _initial_lifecycle(values, settings, pending_contracts), now
    )
    case.update(
        {
            "buckets": buckets,
            "blendedAgeUpliftPoints": uplift if (lines or given) else None,
            "preLegalSuccessFee": round(settings["base_success_fee"] + uplift, 2),
            "partner": partner,
            "pendingContracts": pending_contracts,
            "disputeStatus": None,
            "validation": {
                "items": [],
                "requestedAt": None,
                "creditorRespondedAt": None,
            },
            "values": values,
            "rawBody": stored_body(raw_body),
        }
    )
    if case["lifecycle"] == "Active":
        _enter_active(case, now, settings)
    save(db, case)
    timeline(sb, db, case, "CaseCreated", "Case created", "Case submitted via API.")
    events.emit(sb, db, "case.created", case, events.case_data(case))
    return case


def _case_buckets(values, lines, given, today):
    """The case's age buckets: from its claim lines, else those the request
    gave, else its whole amount aged from its due date."""
    if lines:
        return pricing.buckets_from_lines(lines, today)
    return given or pricing.buckets_from_due_date(
        values["amountCents"], values["dueDate"], today
    )


def _new_case_head(db, values, lifecycle, now):
    """A new case's identity, state, dates and amounts (the first keys of the
    stored case, in their order), with a new id and reference."""
    return {
        "id": str(uuid.uuid4()),
        "reference": new_reference(db),
        "creditorReference": values["creditorReference"],
        "debtorId": debtor_id(values["debtor"]),
        "isTest": values["isTest"],
        "tag": values["tag"],
        "divisionId": values["creditorDivisionId"],
        "lifecycle": lifecycle,
        "closeCode": None,
        "closeComment": None,
        "phase": None,
        "currency": values["currency"],
        "dateCreated": now,
        "dateUpdated": now,
        "dateFinished": None,
        "dateCollectionStarted": None,
        "exclusivePeriodEnd": None,
        "dueDate": values["dueDate"],
        "date": values["date"],
        "grossCents": values["amountCents"],
        "fees": {"interest": 0, "reminderFees": 0, "collectionFees": 0},
        "outstanding": {
            "principal": values["amountCents"],
            "interest": 0,
            "reminderFees": 0,
            "collectionFees": 0,
        },
    }


def stored_body(raw_body):
    """The create body as the case keeps it: verbatim, unless it carried
    ``claimLines`` (any casing), which are dropped before storing as the spec says
    the lines are; the request log keeps what was sent."""
    try:
        document = json.loads(raw_body)
    except ValueError:
        return raw_body
    if not isinstance(document, dict) or not any(
        str(key).lower() == "claimlines" for key in document
    ):
        return raw_body
    return dumps({k: v for k, v in document.items() if k.lower() != "claimlines"})


def _initial_lifecycle(values, settings, pending_contracts):
    if pending_contracts:
        return "PendingContractSigning"
    if settings["auto_activate"]:
        return "Active"
    if values["skipDebituraVerification"]:
        return "PendingVerification"
    return "PendingVerificationInternal"


def _enter_active(case, now, settings):
    """Collection starts: pre-legal engagement and exclusive period, once."""
    case["dateCollectionStarted"] = case["dateCollectionStarted"] or now
    case["phase"] = case["phase"] or "Pre-legal"
    if not case["exclusivePeriodEnd"]:
        start = case["dateCollectionStarted"]
        end = pricing.exclusive_period_end(
            _parse_stamp(start), settings["exclusive_period_days"]
        )
        case["exclusivePeriodEnd"] = end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_stamp(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def move(sb, db, case, action, actor, close_code=None, comment=None):
    """Apply a partner action to the lifecycle; queue ``case.updated`` (+closed).

    Raise ``lifecycle.TransitionError`` when the current lifecycle refuses it.
    """
    old = case["lifecycle"]
    target = lifecycle.target_of(action, old)
    now = sb.clock.stamp()
    case["lifecycle"] = target
    case["dateUpdated"] = now
    if target == "Active":
        _enter_active(case, now, sb.settings(db))
        case.update(closeCode=None, closeComment=None, dateFinished=None)
    if target == "Closed":
        case.update(closeCode=close_code, closeComment=comment, dateFinished=now)
    if old == "NeedsAdditionalDetails":
        case["validation"]["items"] = []
    save(db, case)
    label = LIFECYCLES[target] + (f" ({CLOSE_CODES[close_code]})" if close_code else "")
    timeline(sb, db, case, "LifecycleChanged", f"Case {label}", comment or "", actor)
    events.emit(sb, db, "case.updated", case, events.lifecycle_data(case, old))
    if target == "Closed":
        events.emit(sb, db, "case.closed", case, events.closed_data(case))
    return case


def request_details(sb, db, case, items, actor):
    """Partner asks the creditor for more details (``NeedsAdditionalDetails``)."""
    case["validation"] = {
        "items": items,
        "requestedAt": sb.clock.stamp(),
        "creditorRespondedAt": None,
    }
    return move(sb, db, case, "request-details", actor)


def pay(sb, db, case, payment, actor):
    """Register ``payment`` (amount in cents, currency, recipient...) on the case."""
    now = sb.clock.stamp()
    payment.update(id=str(uuid.uuid4()), caseId=case["id"], dateCreated=now)
    payment["dateUpdated"] = None
    payment["allocation"] = (
        _allocate(case["outstanding"], payment["amountCents"])
        if payment["currency"] == case["currency"]
        else {}
    )
    case["dateUpdated"] = now
    save(db, case)
    db.execute(
        "INSERT INTO payments (id, case_id, doc) VALUES (?, ?, ?)",
        (payment["id"], case["id"], dumps(payment)),
    )
    amount = f"{payment['amountCents'] / 100:.2f} {payment['currency']}"
    timeline(
        sb, db, case, "PaymentRegistered", "Payment registered",
        f"{amount} paid to {payment['recipient']}.", actor,
    )  # fmt: skip
    events.emit(sb, db, "payment.created", case, events.payment_data(case, payment))
    return payment


def _allocate(outstanding, amount):
    allocation = {}
    for bucket in BUCKET_ORDER:
        share = min(amount, outstanding[bucket])
        if share > 0:
            outstanding[bucket] -= share
            allocation[bucket] = share
            amount -= share
    return allocation


def unpay(sb, db, case, payment_id, actor):
    """Delete (reverse) a payment: its allocation returns to the balances."""
    row = db.execute(
        "SELECT doc FROM payments WHERE id = ? AND case_id = ? AND deleted_at IS NULL",
        (payment_id, case["id"]),
    ).fetchone()
    payment = load_doc(row)
    if payment is None:
        return None
    now = sb.clock.stamp()
    for bucket, share in payment["allocation"].items():
        case["outstanding"][bucket] += share
    payment.update(deletedAt=now, dateUpdated=now)
    case["dateUpdated"] = now
    save(db, case)
    db.execute(
        "UPDATE payments SET deleted_at = ?, doc = ? WHERE id = ?",
        (now, dumps(payment), payment_id),
    )
    timeline(sb, db, case, "PaymentDeleted", "Payment deleted", payment_id, actor)
    events.emit(sb, db, "payment.deleted", case, events.payment_data(case, payment))
    return payment


def payments(db, case_id=None, include_deleted=False):
    """Payments of a case (or of all cases), oldest first."""
    query, args = "SELECT doc FROM payments WHERE 1 = 1", []
    if case_id:
        query, args = query + " AND case_id = ?", [case_id]
    if not include_deleted:
        query += " AND deleted_at IS NULL"
    return [load_doc(row) for row in db.execute(query + " ORDER BY rowid", args)]


def add_chat(sb, db, case, role, message, user):
    """Post a chat message (creditor or partner side); queue ``chat.created``."""
    now = sb.clock.stamp()
    chat = {
        "id": str(uuid.uuid4()),
        "caseId": case["id"],
        "dateCreated": now,
        "dateUpdated": None,
        "role": role,
        "message": message,
        "isSeen": False,
        "user": user,
    }
    db.execute(
        "INSERT INTO chats (id, case_id, doc) VALUES (?, ?, ?)",
        (chat["id"], case["id"], dumps(chat)),
    )
    validation = case["validation"]
    if (
        role == 1
        and validation["requestedAt"]
        and not validation["creditorRespondedAt"]
    ):
        validation["creditorRespondedAt"] = now
    case["dateUpdated"] = now
    save(db, case)
    actor = ("Creditor user" if role == 1 else "Partner user", user.get("email"))
    timeline(sb, db, case, "ChatMessage", "Chat message", message[:200], actor)
    events.emit(sb, db, "chat.created", case, events.chat_data(case, chat))
    return chat


def chats(db, case_id):
    """Chat messages of a case, oldest first."""
    rows = db.execute(
        "SELECT doc FROM chats WHERE case_id = ? ORDER BY rowid", (case_id,)
    )
    return [load_doc(row) for row in rows]


def add_file(sb, db, case, meta, content):
    """Store an uploaded file (metadata and bytes)."""
    now = sb.clock.stamp()
    meta.update(id=str(uuid.uuid4()), caseId=case["id"], dateCreated=now)
    meta["dateUpdated"] = now
    db.execute(
        "INSERT INTO files (id, case_id, doc, content) VALUES (?, ?, ?, ?)",
        (meta["id"], case["id"], dumps(meta), content),
    )
    case["dateUpdated"] = now
    save(db, case)
    timeline(
        sb, db, case, "FileUploaded", "File uploaded", meta["fileName"],
        ("Creditor user", None),
    )  # fmt: skip
    return meta


def files(db, case_id=None):
    """File metadata of a case (or of all cases), oldest first."""
    if case_id:
        rows = db.execute(
            "SELECT doc FROM files WHERE case_id = ? ORDER BY rowid", (case_id,)
        )
    else:
        rows = db.execute("SELECT doc FROM files ORDER BY rowid")
    return [load_doc(row) for row in rows]


def adjust(sb, db, case, changes, actor):
    """Partner-side changes without an event: phase, dispute status, added fees."""
    now = sb.clock.stamp()
    for bucket in ("interest", "reminderFees", "collectionFees"):
        _add_fee(case, bucket, changes.get(bucket, 0))
    for key in ("phase", "disputeStatus"):
        if key in changes:
            case[key] = changes[key]
    case["dateUpdated"] = now
    save(db, case)
    summary = ", ".join(f"{key}={value}" for key, value in sorted(changes.items()))
    timeline(sb, db, case, "CaseAdjusted", "Case details changed", summary, actor)
    return case


def _add_fee(case, bucket, amount_cents):
    if amount_cents:
        case["fees"][bucket] += amount_cents
        case["outstanding"][bucket] += amount_cents


def hard_delete(db, case_id, stamp):
    """Remove a test case and everything attached to it (``DELETE /test/cases``)."""
    for table in ("payments", "chats", "files", "timeline", "webhook_events"):
        db.execute(f"DELETE FROM {table} WHERE case_id = ?", (case_id,))  # noqa: S608
    db.execute("DELETE FROM cases WHERE id = ?", (case_id,))
    db.execute(
        "INSERT OR REPLACE INTO deleted_cases (id, deleted_at) VALUES (?, ?)",
        (case_id, stamp),
    )
