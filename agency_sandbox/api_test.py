"""Customer API test endpoints: advance a test case, hard-delete, fire a webhook.

They behave as the spec documents them, guards included: only test cases
(``isTest: true``) may be advanced, deleted or used to fire events; ``advance`` walks
the case through the same lifecycle moves and events as the control API.
"""

from . import cases, events, lifecycle
from .api_cases import load_case
from .http import api_error, guid, json_response, read_json, validation_error
from .reference import RECIPIENTS, WEBHOOK_EVENTS
from .store import load_doc
from .validation import Checker, insensitive

SYSTEM = ("System", "Debitura test API")


def bad_request(message):
    """400 ``ApiErrorResponseDto`` for the test endpoints' guards."""
    return api_error(400, "BadRequest", message)


def advance(sb, request, case_id):
    """``POST /test/cases/{id}/advance``: ``to`` and (``Closed:Paid``) ``amount``."""
    body = insensitive(read_json(request)) or {}
    check = Checker(sb.latest_day())
    amount_cents = check.amount(body, "amount", "Amount")
    if check.errors:
        return validation_error(check.errors)
    target = body.get("to")
    with sb.store.tx() as db:
        case = load_case(db, case_id)
        if not case["isTest"]:
            return bad_request("Only test cases (isTest: true) can be advanced.")
        try:
            steps = lifecycle.advance_plan(
                case["lifecycle"], case["closeCode"], target, amount_cents
            )
        except ValueError as error:
            return bad_request(str(error))
        for action, argument in steps:
            case = _step(sb, db, case, action, argument)
        state = lifecycle.advance_state(case["lifecycle"], case["closeCode"])
    return json_response(200, {"advanced": bool(steps), "state": state})


def _step(sb, db, case, action, argument):
    if action == "pay":
        payment = {
            "amountCents": argument,
            "currency": case["currency"],
            "recipient": RECIPIENTS[0],
            "method": "BankTransfer",
            "date": sb.today().isoformat(),
            "commissionCents": None,
        }
        cases.pay(sb, db, case, payment, SYSTEM)
        return cases.load(db, case["id"])
    if action == "close":
        return cases.move(sb, db, case, "close", SYSTEM, close_code=argument)
    return cases.move(sb, db, case, action, SYSTEM)


def delete_case(sb, request, case_id):
    """``DELETE /test/cases/{id}``: 204, also when it was already deleted."""
    case_id = guid(case_id)
    with sb.store.tx() as db:
        case = cases.load(db, case_id)
        if case is None:
            gone = db.execute(
                "SELECT 1 FROM deleted_cases WHERE id = ?", (case_id,)
            ).fetchone()
            if gone:
                return json_response(204, None)
            return api_error(404, "NotFound", "Case not found.")
        if not case["isTest"]:
            return bad_request("Production cases cannot be deleted.")
        cases.hard_delete(db, case_id, sb.clock.stamp())
    return json_response(204, None)


def delete_cases_by_tag(sb, request):
    """``DELETE /test/cases?tag=...``: all or nothing, 204 even if none matched."""
    tag = (request.args.get("tag") or "").strip()
    if not tag:
        return bad_request("The tag query parameter is required.")
    with sb.store.tx() as db:
        rows = db.execute(
            "SELECT id, is_test FROM cases WHERE tag = ?", (tag,)
        ).fetchall()
        if any(not row["is_test"] for row in rows):
            return bad_request("The tag matches production cases; nothing was deleted.")
        stamp = sb.clock.stamp()
        for row in rows:
            cases.hard_delete(db, row["id"], stamp)
    return json_response(204, None)


def fire(sb, request):
    """``POST /test/webhooks/fire``: a current-state event for a test case."""
    body = insensitive(read_json(request)) or {}
    event_type = body.get("event")
    if event_type not in WEBHOOK_EVENTS:
        return bad_request(f"event must be one of: {', '.join(WEBHOOK_EVENTS)}.")
    if body.get("caseid") is None:
        return validation_error({"CaseId": ["The CaseId field is required."]})
    with sb.store.tx() as db:
        case = load_case(db, body["caseid"])
        if not case["isTest"]:
            return bad_request("Webhooks can only be fired for test cases.")
        sub_id = body.get("subscriptionid")
        if sub_id is not None and not _test_subscription(
            db, guid(sub_id, "SubscriptionId")
        ):
            return bad_request("Subscription not found or not a test subscription.")
        data = _current_data(db, case, event_type)
        if data is None:
            message = f"The case has no data for {event_type}."
            return api_error(422, "UnprocessableEntity", message)
        count = events.emit(
            sb, db, event_type, case, data, guid(sub_id) if sub_id else None
        )
    payload = {"eventType": event_type, "caseId": case["id"], "enqueuedCount": count}
    return json_response(200, payload)


def _test_subscription(db, sub_id):
    row = db.execute("SELECT doc FROM webhooks WHERE id = ?", (sub_id,)).fetchone()
    sub = load_doc(row)
    return sub is not None and sub["isTestMode"] and sub["isActive"]


def _current_data(db, case, event_type):
    if event_type == "case.created":
        return events.case_data(case)
    if event_type == "case.updated":
        return events.lifecycle_data(case, case["lifecycle"])
    if event_type == "case.closed":
        return events.closed_data(case)
    if event_type == "chat.created":
        found = cases.chats(db, case["id"])
        return events.chat_data(case, found[-1]) if found else None
    everything = cases.payments(db, case["id"], include_deleted=True)
    wanted = [p for p in everything if bool(p.get("deletedAt")) == (
        event_type == "payment.deleted"
    )]  # fmt: skip
    if event_type == "payment.deleted":
        wanted.sort(key=lambda p: p["deletedAt"])
    return events.payment_data(case, wanted[-1]) if wanted else None


ROUTES = [
    ("/test/cases/<case_id>/advance", ["POST"], advance),
    ("/test/cases/<case_id>", ["DELETE"], delete_case),
    ("/test/cases", ["DELETE"], delete_cases_by_tag),
    ("/test/webhooks/fire", ["POST"], fire),
]
