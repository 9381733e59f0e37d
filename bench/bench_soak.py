#!/usr/bin/env python3
"""Soak with faults: hand-offs to the agency sandbox while it fails, a storm of
callbacks into a multi-worker Odoo, and, once the faults stop, the same counts
on both sides.

1. A throwaway database: a copy of the bench template of ``bench/run`` filled by
   ``datagen.py`` with N debtors of one open invoice each (one in five in USD),
   or, with ``--database``, a copy of a database where the addon is installed,
   given N debtors through the ORM (what the root test does).
2. An agency sandbox process, its webhooks subscribed to the agency's callback
   address (test mode), and a separate Odoo process (``soak_worker.py
   prepare``) that configures the agency as an administrator would: test mode,
   no documents, booking accounts, a 1 s time-out, a 2 s retry base, and the
   agency's scheduled actions every minute.
3. Odoo runs as a real server: ``odoo-bin --workers 2 --max-cron-threads 2``.
   The sandbox's fault rules: ``--fault-rate`` (20 %) of the Customer API calls
   that create a case or read one (``POST /cases``, ``GET /cases*``; the
   wizard's preview, the one call a person waits for, is left alone) fail, in
   equal shares: time-outs, connection resets, 5xx, 429 with Retry-After, and
   responses lost after the agency did the work; ``--webhook-fault-rate`` (20
   %) of the callbacks are duplicated, held back behind the next one
   (reordered) or dropped, in equal shares.
4. A follow-up manager (``soak_worker.py handoff``) hands the debtors over,
   ``--chunk`` per wizard; the server's outbox sends the cases while the driver
   plays the collection partner: each case that appears at the agency is
   activated and gets one payment (two for every third case), each change a
   callback to Odoo. Once the sandbox has delivered what it could, every
   delivered callback is sent again at once from 8 threads (duplicates, in a
   shuffled order). The cron workers are woken every 2 s (``NOTIFY
   cron_trigger``, as a trigger does; Odoo's own tick is 60 s).
5. The faults stop; the agency's poll is triggered (the fallback for the dropped
   callbacks) until it has run twice after the sandbox went quiet, and every
   request and callback has settled.
6. The counts, from the sandbox's control API and Odoo's database: cases at the
   sandbox == cases in Odoo (same references and ids, each created once);
   every request sent, none waiting or failed; events stored == distinct events
   delivered, each applied once; payments booked == payments at the sandbox (the
   same ids), each with one journal entry; case states as at the agency.

Exit status 1 on any mismatch or crash. Figures only: no time is asserted.
"""

import argparse
import base64
import json
import os
import random
import secrets
import sys
import threading
import time
from collections import Counter
from datetime import UTC
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_followup_run import (  # noqa: E402
    MODULE,
    WORK_DIR,
    add_common_options,
    bench_result,
    copy_db,
    drop_db,
    generate,
    log,
    prepare_odoo,
    run_in_venv,
)
from bench_handoff import sandbox_source  # noqa: E402
from bench_webhooks import OdooServer  # noqa: E402

HTTP_FAULTS = [
    ("timeout", {"seconds": 1.5}),
    ("reset", {}),
    ("status", {"status": 503}),
    ("rate_limit", {"retryAfter": 1}),
    ("lost_response", {}),
]
WEBHOOK_FAULTS = ["webhook_duplicate", "webhook_reorder", "webhook_drop"]
#: what the faults apply to: creating a case and reading cases back
FAULT_TARGETS = [("POST", "/cases"), ("GET", "/cases*")]
#: Debitura's lifecycle labels -> the case states Odoo shows (the soak's only)
#: the states the soak's cases reach: activated by the partner, or still waiting
#: for it (Odoo's mapping, ``services/debitura/const.py``)
LIFECYCLE_STATE = {
    "Active": "active",
    "PendingVerificationInternal": "submitted",
    "PendingVerification": "submitted",
}
SANDBOX_SETTINGS = {
    "webhook_retry_delays": [0.5, 1, 2, 4, 8, 15, 30],
    "webhook_timeout": 10,
    "webhook_reorder_window": 2,
    "request_log_limit": 200000,
}


# ----------------------------------------------------------------------
# faults
# ----------------------------------------------------------------------
def shares(rate, kinds):
    """Probabilities of rules tried in turn (the first that fires wins) so that
    each of ``kinds`` fires on ``rate / len(kinds)`` of the requests."""
    each = rate / len(kinds)
    return [each / (1 - index * each) for index in range(len(kinds))]


def add_faults(sandbox, rate, webhook_rate):
    """One fault of each kind first (the first case creations, the first
    callbacks), so that every kind fires even in a small run; then the random
    rules."""
    if rate:
        for kind, params in HTTP_FAULTS:
            sandbox.add_fault(kind, method="POST", path="/cases", **params)
    if webhook_rate:
        for kind in WEBHOOK_FAULTS:
            sandbox.add_fault(kind, event="payment.created")
    for method, path in FAULT_TARGETS if rate else ():
        kinds = [kind for kind, _params in HTTP_FAULTS]
        for (kind, params), probability in zip(
            HTTP_FAULTS, shares(rate, kinds), strict=True
        ):
            sandbox.add_fault(
                kind, method=method, path=path, count=None,
                probability=probability, **params,
            )  # fmt: skip
    for kind, probability in zip(
        WEBHOOK_FAULTS, shares(webhook_rate, WEBHOOK_FAULTS), strict=True
    ):
        if webhook_rate:
            sandbox.add_fault(kind, event="*", count=None, probability=probability)


def fault_hits(sandbox):
    hits = Counter()
    for rule in sandbox.faults():
        kind = rule["kind"]
        if kind == "status":
            kind = f"{rule['status']}"
        hits[kind] += rule["hits"]
    return dict(hits)


# ----------------------------------------------------------------------
# Odoo's database
# ----------------------------------------------------------------------
class Database:
    def __init__(self, db):
        import psycopg2

        self.db = db
        self.conn = psycopg2.connect(dbname=db)
        self.conn.autocommit = True
        self.postgres = psycopg2.connect(dbname="postgres")
        self.postgres.autocommit = True

    def all(self, sql, params=()):
        with self.conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall() if cr.description else []

    def one(self, sql, params=()):
        return self.all(sql, params)[0]

    def tick(self):
        """Wake the cron workers up, as a trigger's NOTIFY does."""
        with self.postgres.cursor() as cr:
            cr.execute("SELECT pg_notify('cron_trigger', %s)", [self.db])

    def trigger(self, xmlid):
        """Queue a run of a scheduled action now, as ``ir.cron._trigger()``."""
        self.all(
            """INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid,
                   create_date, write_uid, write_date)
               SELECT d.res_id, now() at time zone 'utc', 1,
                      now() at time zone 'utc', 1, now() at time zone 'utc'
                 FROM ir_model_data d
                WHERE d.module = %s AND d.name = %s AND d.model = 'ir.cron'
            RETURNING id""",
            [MODULE, xmlid],
        )
        self.tick()

    def close(self):
        self.conn.close()
        self.postgres.close()


def waiting(database, agency_id):
    """Requests and callbacks Odoo still has to work on."""
    requests = database.one(
        "SELECT count(*) FROM followup_agency_request WHERE agency_id = %s "
        "AND state IN ('pending', 'retry')",
        [agency_id],
    )[0]
    events = database.one(
        "SELECT count(*) FROM followup_agency_event WHERE agency_id = %s "
        "AND (state = 'received' OR (state = 'failed' AND attempts < 5))",
        [agency_id],
    )[0]
    return requests, events


def last_poll(database, agency_id):
    return database.one(
        "SELECT last_poll, paused, pause_reason FROM followup_agency WHERE id = %s",
        [agency_id],
    )


# ----------------------------------------------------------------------
# the collection partner
# ----------------------------------------------------------------------
class Partner:
    """Activates each case that appears at the sandbox and registers its
    payments (one, two for every third case, 10 % of the claim each)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.handled = set()
        self.payments = 0

    def step(self):
        cases = self.sandbox.cases()
        for case in cases:
            if case["id"] in self.handled:
                continue
            self.sandbox.activate(case["id"])
            gross = self.sandbox.case(case["id"])["grossCents"]
            amount = max(round(gross * 0.10) / 100, 1.0)
            for _ in range(2 if len(self.handled) % 3 == 2 else 1):
                self.sandbox.register_payment(
                    case["id"], amount, recipient="CollectionPartner"
                )
                self.payments += 1
            self.handled.add(case["id"])
        return len(cases)


# ----------------------------------------------------------------------
# the replayed storm
# ----------------------------------------------------------------------
def replay_storm(args, odoo, server, agency_id, secret, sandbox, sandbox_root):
    """Every callback the sandbox delivered, sent again at once from 8 threads
    in a shuffled order; returns the client's figures."""
    seen = {}
    for record in sandbox.webhooks()["deliveries"]:
        if record["state"] == "delivered":
            seen.setdefault(
                record["event_id"],
                {
                    "id": record["event_id"],
                    "type": record["event_type"],
                    "body": record["payload"],
                },
            )
    events = list(seen.values())
    random.Random(20).shuffle(events)
    events_file = WORK_DIR / f"{server.db}-soak-replay.jsonl"
    with open(events_file, "w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    url = f"{server.url}/receivables_followup/agency/{agency_id}/webhook"
    out = odoo._run(
        [
            odoo.python,
            str(BENCH_DIR / "webhook_client.py"),
            "--url",
            url,
            "--secret",
            secret,
            "--events",
            str(events_file),
            "--clients",
            "8",
            "--sandbox-root",
            str(sandbox_root),
        ],  # fmt: skip
        f"{server.db}-soak-replay",
    )
    return bench_result(out, "the replay client")


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


# ----------------------------------------------------------------------
# one run
# ----------------------------------------------------------------------
def wait_until(predicate, timeout, database, what, every=2.0):
    deadline = time.monotonic() + timeout
    while True:
        database.tick()
        if predicate():
            return True
        if time.monotonic() > deadline:
            log(f"gave up waiting for {what} after {timeout:.0f} s")
            return False
        time.sleep(every)


def soak(args, odoo, SandboxProcess, sandbox_root, db, result):
    problems = result["problems"]
    api_key = "soak-" + secrets.token_hex(8)
    sandbox = SandboxProcess(api_key=api_key, port=0, settings=SANDBOX_SETTINGS)
    server = database = None
    started = time.perf_counter()
    try:
        sandbox.start()
        log(f"sandbox at {sandbox.base_url}")
        prepared = odoo.run_worker(
            "soak_worker.py", db,
            "--base-url", sandbox.base_url, "--api-key", api_key,
            "--secret", base64.b64encode(b"unused").decode(),
            "--seed", str(args.debtors if args.database else 0),
            "--request-timeout", str(args.request_timeout),
            "--retry-base", str(args.retry_base),
            mode="prepare", logname=f"{db}-soak-prepare",
        )  # fmt: skip
        agency_id = prepared["agency_id"]
        server = OdooServer(
            odoo, db, args.workers, cron_threads=args.cron_threads, label="soak"
        )
        callback = f"{server.url}/receivables_followup/agency/{agency_id}/webhook"
        subscription = sandbox.subscribe_webhook(callback, test_mode=True)
        secret = subscription["secret"]
        database = Database(db)
        database.all(
            "UPDATE followup_agency SET webhook_secret = %s WHERE id = %s",
            [secret, agency_id],
        )
        add_faults(sandbox, args.fault_rate, args.webhook_fault_rate)
        log(f"starting odoo-bin --workers {args.workers} on {server.url}")
        # odoo-bin appends to its log file: this run's errors only
        Path(server.logfile).unlink(missing_ok=True)
        server.start()
        log(f"handing {args.debtors} debtors over, {args.chunk} per wizard")
        handoff = {}

        def hand_over():
            try:
                handoff.update(
                    odoo.run_worker(
                        "soak_worker.py",
                        db,
                        "--chunk",
                        str(args.chunk),
                        mode="handoff",
                        logname=f"{db}-soak-handoff",
                    )  # fmt: skip
                )
            except Exception as error:  # noqa: BLE001 - reported by the driver
                handoff["error"] = str(error)[-2000:]

        thread = threading.Thread(target=hand_over)
        thread.start()
        partner = Partner(sandbox)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            database.tick()
            # read before the partner's step: a case created at the agency after
            # the step but before this count would be left out of the partner's
            # work (never activated, no payment) and counted as settled
            created = not thread.is_alive() and not database.one(
                "SELECT count(*) FROM followup_agency_request WHERE agency_id = %s "
                "AND kind = 'create' AND state IN ('pending', 'retry')",
                [agency_id],
            )[0]
            at_sandbox = partner.step()
            if not thread.is_alive() and "error" in handoff:
                raise RuntimeError(f"the hand-off failed: {handoff['error']}")
            if created and at_sandbox == len(partner.handled):
                break
            time.sleep(1.0)
        thread.join()
        result["handoff"] = handoff
        log(
            f"{len(partner.handled)} cases at the sandbox, {partner.payments} "
            "payments; waiting for the sandbox's deliveries"
        )
        wait_until(
            lambda: not sandbox.webhooks()["busy"], args.timeout, database, "webhooks"
        )
        result["storm_s"] = time.perf_counter() - started
        log("the storm again: every delivered callback, 8 at a time")
        result["replay"] = replay_storm(
            args, odoo, server, agency_id, secret, sandbox, sandbox_root
        )
        result["faults"] = fault_hits(sandbox)
        sandbox.clear_faults()
        quiet = time.time()
        log("faults stopped; triggering the poll until it ran twice after it")
        database.trigger("ir_cron_agency_poll")
        polls = set()

        def settled():
            requests, events = waiting(database, agency_id)
            poll, paused, _reason = last_poll(database, agency_id)
            if (
                poll
                and poll.replace(tzinfo=UTC).timestamp() > quiet
                and (poll not in polls)
            ):
                polls.add(poll)
                if len(polls) < 2:
                    database.trigger("ir_cron_agency_poll")
            return paused or (not requests and not events and len(polls) >= 2)

        result["settled"] = wait_until(settled, args.timeout, database, "Odoo")
        result["settle_s"] = time.perf_counter() - started - result["storm_s"]
        poll, paused, reason = last_poll(database, agency_id)
        result["agency"] = {"last_poll": poll, "paused": paused, "pause_reason": reason}
        if result["agency"]["paused"]:
            problems.append(f"agency paused: {result['agency']['pause_reason']}")
        result["partner_payments"] = partner.payments
        result.update(delivery_figures(sandbox))
        result.update(submissions(sandbox))
        figures, mismatches = compare(database, sandbox, agency_id)
        result.update(figures)
        problems += mismatches
        result["server_errors"] = server_errors(server.logfile)
    except BaseException as error:
        problems.append(f"crashed: {error!r}"[:800])
        raise
    finally:
        result["wall_s"] = time.perf_counter() - started
        if database:
            database.close()
        if server:
            server.stop()
        sandbox.stop()
        sandbox.cleanup()
    return result


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


# ----------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debtors", type=int, default=1000, metavar="N")
    parser.add_argument("--fault-rate", type=float, default=0.20)
    parser.add_argument("--webhook-fault-rate", type=float, default=0.20)
    parser.add_argument("--chunk", type=int, default=100, help="debtors per wizard")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cron-threads", type=int, default=2)
    parser.add_argument("--request-timeout", type=float, default=1.0)
    parser.add_argument("--retry-base", type=float, default=2.0)
    parser.add_argument(
        "--timeout", type=float, default=1800, help="longest wait of each phase (s)"
    )
    parser.add_argument(
        "--database",
        help="copy this database (the addon installed) instead of the bench "
        "template, and make the debtors through the ORM",
    )
    parser.add_argument("--db-name", help="the throwaway database (bench_soak_<N>)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_common_options(parser, "the addon and the sandbox")
    return parser.parse_args(argv)


def upgrade(odoo, db):
    """The addon measured, upgraded in the copy of ``--database`` (made with an
    older version, its tables may lack a column)."""
    odoo._run(
        [
            odoo.python,
            f"{odoo.odoo_path}/odoo-bin",
            "-d",
            db,
            "-u",
            MODULE,
            f"--addons-path={odoo.addons}",
            f"--data-dir={odoo.data_dir}",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
        ],  # fmt: skip
        f"{db}-upgrade",
    )


def main(argv=None):
    args = parse_args(argv)
    run_in_venv(args.python, __file__)
    if args.database:
        from bench_followup_run import Odoo, addon_source, find_odoo

        odoo_path = find_odoo(args.odoo_path, args.python)
        addon_root, addon_note = addon_source(args.addon_ref)
        odoo = Odoo(args.python, odoo_path, addon_root)
        template = args.database
    else:
        odoo, template, addon_note = prepare_odoo(args, __file__)
    SandboxProcess = sandbox_source(odoo.addon_root)
    sandbox_root = odoo.addon_root
    db = args.db_name or f"bench_soak_{args.debtors}"
    result = {
        "debtors": args.debtors,
        "fault_rate": args.fault_rate,
        "webhook_fault_rate": args.webhook_fault_rate,
        "addon": addon_note,
        "cpus": os.cpu_count(),
        "problems": [],
    }
    copy_db(template, db)
    try:
        if args.database:
            upgrade(odoo, db)
        else:
            generate(db, args.debtors, args.debtors, "fresh")
        soak(args, odoo, SandboxProcess, sandbox_root, db, result)
    except Exception:  # noqa: BLE001 - the problems list says it
        pass
    finally:
        if not args.keep_db:
            drop_db(db)
    if args.json:
        print(json.dumps(result, default=str))
    else:
        report(result)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
