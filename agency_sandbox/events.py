"""Webhook events: what a delivery carries and which subscriptions get it.

Payloads are thin, as Debitura's are: an envelope (``id`` shared by every delivery of
the event, ``specVersion``, ``event``, ``timestamp``, ``classification``, ``data``,
``links.self``) whose ``data`` holds ids, references, lifecycle and amounts, so a
consumer re-reads the case when it needs more. Events of test cases go to subscriptions
created with ``isTestMode: true`` only, events of live cases to the others, as the
spec's test-mode section says.

Enqueuing happens in the transaction that changed the case, so an event exists if and
only if the change was committed; the delivery worker sends it afterwards. The webhook
faults (drop, duplicate, reorder) are applied here, one fault per delivery record.
"""

import time
import uuid

from . import faults
from .http import cents
from .reference import CHAT_ROLES, CLOSE_CODES, LIFECYCLES
from .store import dumps, load_doc


def envelope(event_id, event_type, timestamp, case, data, base_url):
    """The JSON document delivered for one event."""
    return {
        "id": event_id,
        "specVersion": "1.0",
        "event": event_type,
        "timestamp": timestamp[:19] + "Z",
        "classification": "test" if case["isTest"] else "production",
        "data": data,
        "links": {"self": f"{base_url}/cases/{case['id']}"},
    }


def case_data(case):
    """``data`` of the case events: ids, references, lifecycle and amounts."""
    return {
        "caseId": case["id"],
        "reference": case["reference"],
        "creditorReference": case["creditorReference"],
        "status": LIFECYCLES[case["lifecycle"]],
        "amount": cents(case["grossCents"]),
        "remainder": cents(sum(case["outstanding"].values())),
        "currency": case["currency"],
        "debtorName": case["values"]["debtor"]["name"],
        "dateUpdated": case["dateUpdated"],
    }


def lifecycle_data(case, old_lifecycle):
    """``data`` of ``case.updated``: the case plus its old and new lifecycle."""
    data = case_data(case)
    data["oldLifecycle"] = LIFECYCLES[old_lifecycle]
    data["newLifecycle"] = LIFECYCLES[case["lifecycle"]]
    return data


def closed_data(case):
    """``data`` of ``case.closed``: the case plus its close code and comment."""
    data = case_data(case)
    data["closeCode"] = CLOSE_CODES.get(case["closeCode"])
    data["comment"] = case.get("closeComment")
    return data


def payment_data(case, payment):
    """``data`` of ``payment.created`` / ``payment.deleted``."""
    return {
        "caseId": case["id"],
        "reference": case["reference"],
        "creditorReference": case["creditorReference"],
        "status": LIFECYCLES[case["lifecycle"]],
        "paymentId": payment["id"],
        "amount": cents(payment["amountCents"]),
        "currency": payment["currency"],
        "date": payment["date"],
        "recipient": payment["recipient"],
    }


def chat_data(case, chat):
    """``data`` of ``chat.created``."""
    return {
        "caseId": case["id"],
        "reference": case["reference"],
        "creditorReference": case["creditorReference"],
        "chatId": chat["id"],
        "role": chat["role"],
        "roleLabel": CHAT_ROLES[chat["role"]],
        "message": chat["message"],
        "dateCreated": chat["dateCreated"],
    }


def subscriptions_for(db, event_type, is_test, subscription_id=None):
    """Active subscriptions of the case's classification registered for the event.

    With ``subscription_id`` (``POST /test/webhooks/fire``) only that subscription,
    whatever events it registered for.
    """
    found = []
    for row in db.execute("SELECT doc FROM webhooks ORDER BY rowid"):
        sub = load_doc(row)
        if subscription_id and sub["id"] != subscription_id:
            continue
        if not sub["isActive"] or sub["isTestMode"] != bool(is_test):
            continue
        if subscription_id or event_type in sub["events"]:
            found.append(sub)
    return found


def emit(sb, db, event_type, case, data, subscription_id=None):
    """Record one delivery per matching subscription; return how many were queued."""
    now = sb.clock.stamp()
    event_id = str(uuid.uuid4())
    payload = dumps(envelope(event_id, event_type, now, case, data, sb.base_url))
    subscriptions = subscriptions_for(db, event_type, case["isTest"], subscription_id)
    for sub in subscriptions:
        queue(sb, db, sub["id"], event_id, event_type, case["id"], payload)
    sb.notify()
    return len(subscriptions)


def queue(sb, db, subscription_id, event_id, event_type, case_id, payload, **flags):
    """Insert a delivery record, applying the next matching webhook fault."""
    fault = faults.take_webhook_fault(sb, db, event_type)
    kind = fault["kind"] if fault else None
    copies = 2 if kind == "webhook_duplicate" else 1
    settings = sb.settings(db)
    hold = settings["webhook_reorder_window"] if kind == "webhook_reorder" else 0
    for _ in range(copies):
        db.execute(
            "INSERT INTO webhook_events (id, event_id, subscription_id, case_id, "
            "event_type, payload, state, created_at, next_attempt_at, hold_until, "
            "replay, test, fault) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(uuid.uuid4()),
                event_id,
                subscription_id,
                case_id,
                event_type,
                payload,
                "dropped" if kind == "webhook_drop" else "pending",
                sb.clock.stamp(),
                0,
                time.time() + hold if hold else 0,
                int(flags.get("replay", False)),
                int(flags.get("test", False)),
                kind,
            ),
        )
