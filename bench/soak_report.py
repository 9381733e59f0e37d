"""The soak's counts (``bench_soak.py``): both sides compared, the sandbox's
figures, the server's log errors, and the lines printed at the end of a run.
"""

from collections import Counter
from pathlib import Path

#: Debitura's lifecycle labels -> the case states Odoo shows, for the states the
#: soak's cases reach: activated by the partner, or still waiting for it (Odoo's
#: mapping, ``services/debitura/const.py``)
LIFECYCLE_STATE = {
    "Active": "active",
    "PendingVerificationInternal": "submitted",
    "PendingVerification": "submitted",
}


# ----------------------------------------------------------------------
# the counts
# ----------------------------------------------------------------------
def compare(database, sandbox, agency_id):
    """The figures of both sides and the list of mismatches."""
    problems = []
    sandbox_cases = sandbox.cases()
    by_ref = Counter(case.get("creditorReference") for case in sandbox_cases)
    odoo_cases = {
        ref: (agency_case_id, state)
        for ref, agency_case_id, state in database.all(
            "SELECT creditor_reference, agency_case_id, state FROM "
            "followup_agency_case WHERE agency_id = %s",
            [agency_id],
        )
    }
    doubles = [ref for ref, count in by_ref.items() if count > 1]
    if doubles:
        problems.append(f"{len(doubles)} cases created twice at the sandbox")
    if set(by_ref) != set(odoo_cases):
        problems.append(
            f"{len(set(odoo_cases) - set(by_ref))} Odoo cases not at the sandbox, "
            f"{len(set(by_ref) - set(odoo_cases))} sandbox cases unknown to Odoo"
        )
    lifecycle = {}
    payment_ids = set()
    for case in sandbox_cases:
        ref = case.get("creditorReference")
        lifecycle[ref] = case.get("lifecycle")
        odoo_case = odoo_cases.get(ref)
        if odoo_case and odoo_case[0] != case["id"]:
            problems.append(f"case {ref}: agency id {odoo_case[0]} != {case['id']}")
    for case in sandbox_cases:
        for payment in sandbox.case(case["id"])["payments"]:
            if not (payment.get("deletedAt") or payment.get("deleted_at")):
                payment_ids.add(payment["id"])
    wrong_state = [
        ref
        for ref, (_id, state) in odoo_cases.items()
        if ref in lifecycle and LIFECYCLE_STATE.get(lifecycle[ref]) != state
    ]
    if wrong_state:
        states = Counter(odoo_cases[ref][1] for ref in wrong_state)
        examples = database.all(
            "SELECT creditor_reference, state, agency_lifecycle, agency_updated_at "
            "FROM followup_agency_case WHERE creditor_reference IN %s LIMIT 3",
            [tuple(wrong_state)],
        )
        updated = {case.get("creditorReference"): case.get("dateUpdated")
                   for case in sandbox_cases}  # fmt: skip
        problems.append(
            f"{len(wrong_state)} cases not in the agency's state (Odoo: "
            f"{dict(states)}; e.g. "
            + ", ".join(
                f"{ref} {state}/{lifecycle} at {stamp} in Odoo, "
                f"{updated.get(ref)} at the agency"
                for ref, state, lifecycle, stamp in examples
            )
            + ")"
        )
    requests = dict(
        database.all(
            "SELECT state, count(*) FROM followup_agency_request WHERE agency_id = %s "
            "GROUP BY state",
            [agency_id],
        )
    )
    if set(requests) - {"done"}:
        problems.append(f"requests not sent: {requests}")
    creates = database.one(
        "SELECT count(*), coalesce(sum(attempts), 0), count(*) FILTER (WHERE "
        "attempts > 1) FROM followup_agency_request WHERE agency_id = %s "
        "AND kind = 'create'",
        [agency_id],
    )
    if creates[0] != len(odoo_cases):
        problems.append(f"{creates[0]} create requests for {len(odoo_cases)} cases")
    # the callbacks
    deliveries = sandbox.webhooks()["deliveries"]
    delivered = {r["event_id"] for r in deliveries if r["state"] == "delivered"}
    queued = {r["event_id"] for r in deliveries}
    undelivered = {
        r["event_id"] for r in deliveries if r["state"] not in ("delivered", "dropped")
    }
    if undelivered - delivered:
        problems.append(f"{len(undelivered - delivered)} callbacks never delivered")
    stored = dict(
        database.all(
            "SELECT event_id, state FROM followup_agency_event WHERE agency_id = %s",
            [agency_id],
        )
    )
    if set(stored) != delivered:
        problems.append(
            f"{len(stored)} events stored for {len(delivered)} delivered "
            f"({len(delivered - set(stored))} missing, "
            f"{len(set(stored) - delivered)} never delivered)"
        )
    event_states = Counter(stored.values())
    if set(event_states) - {"done"}:
        problems.append(f"events not applied: {dict(event_states)}")
    event_retries = database.one(
        "SELECT coalesce(sum(attempts - 1), 0) FROM followup_agency_event "
        "WHERE agency_id = %s AND attempts > 1",
        [agency_id],
    )[0]
    # the money
    booked = database.all(
        "SELECT p.agency_payment_id, p.state, p.move_id, "
        "(SELECT count(DISTINCT l.move_id) FROM account_move_line l "
        " WHERE l.followup_agency_payment_id = p.id) "
        "FROM followup_agency_payment p WHERE p.agency_id = %s",
        [agency_id],
    )
    odoo_payments = Counter(row[0] for row in booked)
    if set(odoo_payments) != payment_ids:
        problems.append(
            f"{len(odoo_payments)} payments in Odoo for {len(payment_ids)} at the "
            f"sandbox ({len(payment_ids - set(odoo_payments))} missing, "
            f"{len(set(odoo_payments) - payment_ids)} unknown)"
        )
    if any(count > 1 for count in odoo_payments.values()):
        problems.append("a payment recorded twice")
    not_booked = [row for row in booked if row[1] != "booked" or not row[2]]
    if not_booked:
        problems.append(f"{len(not_booked)} payments not booked")
    entries = [row for row in booked if row[3] != 1]
    if entries:
        problems.append(f"{len(entries)} payments without exactly one journal entry")
    figures = {
        "cases_sandbox": len(sandbox_cases),
        "cases_odoo": len(odoo_cases),
        "case_states_odoo": dict(Counter(state for _i, state in odoo_cases.values())),
        "requests": requests,
        "create_requests": creates[0],
        "create_attempts": creates[1],
        "creates_retried": creates[2],
        "events_queued": len(queued),
        "events_delivered": len(delivered),
        "events_dropped_never_delivered": len(queued - delivered - undelivered),
        "events_stored": len(stored),
        "events_applied": event_states.get("done", 0),
        "event_states": dict(event_states),
        "event_retries": event_retries,
        "payments_sandbox": len(payment_ids),
        "payments_odoo": len(odoo_payments),
        "payments_booked": sum(1 for row in booked if row[1] == "booked" and row[2]),
    }
    return figures, problems


def delivery_figures(sandbox):
    state = sandbox.webhooks()
    records = state["deliveries"]
    attempts = sum(len(r["attempts"]) for r in records)
    by_fault = Counter(r.get("fault") for r in records if r.get("fault"))
    return {
        "deliveries": len(records),
        "delivery_attempts": attempts,
        "delivery_failures": sum(
            1 for r in records for a in r["attempts"] if a.get("error")
        ),
        "delivery_records_by_fault": dict(by_fault),
    }


def submissions(sandbox):
    """How the sandbox answered the creations: created, replayed (same key and
    body), refused as a duplicate reference."""
    log_entries = sandbox.request_log(method="POST", path="/cases")
    statuses = Counter(str(entry.get("status")) for entry in log_entries)
    faults = Counter(entry.get("fault") for entry in log_entries if entry.get("fault"))
    return {
        "create_calls": len(log_entries),
        "create_statuses": dict(statuses),
        "create_faults": dict(faults),
        "idempotency_records": len(sandbox.idempotency_records()),
    }


def server_errors(logfile):
    lines = Path(logfile).read_text(errors="replace").splitlines()
    errors = [line for line in lines if " ERROR " in line or " CRITICAL " in line]
    return {"count": len(errors), "first": errors[:5]}


# ----------------------------------------------------------------------
# report
# ----------------------------------------------------------------------
def report(result):
    faults = result.get("faults", {})
    http = {k: v for k, v in faults.items() if not k.startswith("webhook")}
    hooks = {k: v for k, v in faults.items() if k.startswith("webhook")}
    replay = result.get("replay", {})
    retried = result.get("create_attempts", 0) - result.get("create_requests", 0)
    lines = [
        f"hand-offs: {result.get('debtors')} debtors, "
        f"{result.get('handoff', {}).get('cases')} cases handed over in "
        f"{result.get('handoff', {}).get('wizards')} wizards",
        f"faults injected (HTTP, {result['fault_rate']:.0%} of the calls): {http}; "
        f"create calls {result.get('create_calls')} "
        f"{result.get('create_statuses')}, faults on them "
        f"{result.get('create_faults')}",
        f"retries: {retried} create retries "
        f"({result.get('creates_retried')} cases retried), "
        f"{result.get('event_retries')} event retries",
        f"cases: sandbox {result.get('cases_sandbox')}, Odoo "
        f"{result.get('cases_odoo')} {result.get('case_states_odoo')}; "
        f"idempotency records {result.get('idempotency_records')}; requests "
        f"{result.get('requests')}",
        f"events: {result.get('events_queued')} sent by the sandbox in "
        f"{result.get('deliveries')} deliveries ({result.get('delivery_attempts')} "
        f"attempts), webhook faults {hooks}; {result.get('events_delivered')} "
        f"delivered, {result.get('events_dropped_never_delivered')} dropped; "
        f"replayed {replay.get('sent')} at once {replay.get('answers')}",
        f"events stored {result.get('events_stored')}, applied "
        f"{result.get('events_applied')} {result.get('event_states')}",
        f"payments: registered {result.get('partner_payments')}, at the sandbox "
        f"{result.get('payments_sandbox')}, in Odoo {result.get('payments_odoo')}, "
        f"booked {result.get('payments_booked')}",
        f"server log errors: {result.get('server_errors', {}).get('count')}",
        f"wall time {result.get('wall_s', 0):.0f} s (storm "
        f"{result.get('storm_s', 0):.0f} s, settling after the faults "
        f"{result.get('settle_s', 0):.0f} s)",
        f"mismatches: {len(result['problems'])}"
        + (": " + "; ".join(result["problems"]) if result["problems"] else ""),
    ]
    for line in lines:
        print(line)
