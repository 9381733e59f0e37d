#!/usr/bin/env python3
"""Time the agency callbacks: signed webhooks into a multi-worker Odoo, exactly once.

1. A throwaway database is copied from the bench template of ``bench/run`` and
   filled by ``datagen.py`` with K debtors (3 open invoices each by default); a
   separate Odoo process (``webhook_worker.py prepare``) hands them over to an
   agency sandbox process as ``bench/handoff`` does (wizard and outbox, no
   documents), gives the agency a base64 webhook secret (and, when the addon
   books agency payments, its clearing and fee accounts). The sandbox then
   activates every case and registers ``--payments-per-case`` payments on each
   (10 % of the case's amount each, collected by the agency).
2. Odoo runs as a real server: ``odoo-bin --workers W --max-cron-threads 0`` on a
   free loopback port, warmed up (login page and refused callbacks) once
   ``/web/login`` answers.
3. A separate client process (``webhook_client.py``, C threads with a
   ``requests`` session each) delivers N events to the agency's webhook address,
   each signed when sent: one ``payment.created`` per payment registered, and
   ``case.updated`` for the rest (round robin over the cases), each with its own
   event id, in a shuffled order, bodies built with the sandbox's own
   ``events.envelope``/``case_data``/``payment_data``; then the same N again
   (every event delivered twice). Throughput, p50/p99 latency and the answers
   are reported per pass, with the CPU time the client, the Odoo server and its
   PostgreSQL backends used.
4. The server is stopped; ``webhook_worker.py apply`` processes the stored
   events as Odoo's cron runner would and times it, runs the scheduled action
   again, then replays every event (all set back to ``received``) and processes
   them again.
5. Exactly-once, from the database: events stored = distinct events sent (the
   same ids), the second delivery stored nothing and changed no stored event;
   every event processed; agency payments booked = distinct payments of the
   payment events (the same ids) when the addon has ``followup.agency.payment``;
   the replayed processing changed no count (entries, journal items, partial
   reconciliations, agency payments).

Figures only: the targets (>= 150 events/s accepted, p99 < 300 ms, on 2 cores)
are printed as met or NOT met, never asserted; the exit status is 1 when
something crashed or a count is wrong.
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
import uuid
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_handoff import SANDBOX, sandbox_source  # noqa: E402
from benchlib import (  # noqa: E402
    MODULE,
    WORK_DIR,
    Odoo,
    add_common_options,
    addon_source,
    checkpoint,
    copy_db,
    drop_db,
    ensure_base_template,
    ensure_bench_template,
    find_odoo,
    generate,
    log,
    run_in_venv,
)
from odoo_server import CpuMeter, OdooServer  # noqa: E402
from webhooks_report import check_apply, print_report  # noqa: E402

PAYMENT_SHARE = 0.10
PROFILE_EVENTS = 500


# ----------------------------------------------------------------------
# Processes
# ----------------------------------------------------------------------
def worker(odoo, db, mode, *options):
    """Run ``webhook_worker.py <mode>`` on ``db``; return its result."""
    return odoo.run_worker(
        "webhook_worker.py", db, *options, mode=mode, logname=f"{db}-webhooks-{mode}"
    )


def warm_up(server, agency_id, clients, rounds=6):
    """Every worker loads the registry and the route before the timed passes:
    the login page and deliveries refused for their signature (nothing stored)."""
    import requests

    url = f"{server.url}/receivables_followup/agency/{agency_id}/webhook"
    statuses = []

    def hit():
        with requests.Session() as session:
            for _ in range(rounds):
                statuses.append(session.get(f"{server.url}/web/login").status_code)
                statuses.append(
                    session.post(
                        url,
                        data=b'{"id":"warm-up"}',
                        headers={
                            "Content-Type": "application/json",
                            "X-Debitura-Signature": f"t={int(time.time())},v1=00",
                        },
                    ).status_code
                )

    threads = [threading.Thread(target=hit) for _ in range(max(clients, 4))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(set(statuses))


# ----------------------------------------------------------------------
# The events
# ----------------------------------------------------------------------
def agency_side(sandbox, cases, payments_per_case):
    """Activate every case at the sandbox and register its payments; return the
    cases as the sandbox stores them (with their payments)."""
    stored = []
    for case in cases:
        agency_case_id = case["agency_case_id"]
        sandbox.activate(agency_case_id)
        gross = sandbox.case(agency_case_id)["grossCents"]
        amount = max(round(gross * PAYMENT_SHARE) / 100, 1.0)
        for _ in range(payments_per_case):
            sandbox.register_payment(
                agency_case_id, amount, recipient="CollectionPartner"
            )
        stored.append(sandbox.case(agency_case_id))
    return stored


def build_events(sandbox_cases, count, base_url, seed=16, payments=True):
    """``count`` Debitura envelopes: one ``payment.created`` per payment, then
    ``case.updated`` round robin over the cases, shuffled; each with its own id."""
    from agency_sandbox import events as sandbox_events
    from agency_sandbox.store import dumps

    built = []
    payment_ids = set()

    def add(event_type, case, data):
        event_id = str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        body = sandbox_events.envelope(
            event_id, event_type, stamp, case, data, base_url
        )
        built.append({"id": event_id, "type": event_type, "body": dumps(body)})

    for case in sandbox_cases if payments else ():
        for payment in case["payments"]:
            if payment.get("deletedAt") or payment.get("deleted_at"):
                continue
            add("payment.created", case, sandbox_events.payment_data(case, payment))
            payment_ids.add(payment["id"])
    if len(built) > count:
        raise RuntimeError(f"{len(built)} payment events for {count} events")
    index = 0
    while len(built) < count:
        case = sandbox_cases[index % len(sandbox_cases)]
        data = sandbox_events.lifecycle_data(case, case["lifecycle"])
        add("case.updated", case, data)
        index += 1
    random.Random(seed).shuffle(built)
    return built, payment_ids


# ----------------------------------------------------------------------
# What the database holds
# ----------------------------------------------------------------------
def inbox(db, agency_id):
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    try:
        with conn.cursor() as cr:
            cr.execute(
                """SELECT count(*), count(DISTINCT event_id), coalesce(max(id), 0),
                          md5(coalesce(string_agg(event_id || '|' || state || '|'
                              || payload || '|' || received_at::text, ','
                              ORDER BY id), ''))
                     FROM followup_agency_event WHERE agency_id = %s""",
                [agency_id],
            )
            stored, distinct, max_id, digest = cr.fetchone()
            cr.execute(
                "SELECT event_id FROM followup_agency_event WHERE agency_id = %s",
                [agency_id],
            )
            ids = {row[0] for row in cr.fetchall()}
            cr.execute(
                "SELECT state, count(*) FROM followup_agency_event "
                "WHERE agency_id = %s GROUP BY state",
                [agency_id],
            )
            states = dict(cr.fetchall())
            cr.execute(
                """SELECT count(*) FROM ir_cron_trigger t
                     JOIN ir_model_data d
                       ON d.model = 'ir.cron' AND d.res_id = t.cron_id
                    WHERE d.module = %s AND d.name = 'ir_cron_agency_events'""",
                [MODULE],
            )
            triggers = cr.fetchone()[0]
    finally:
        conn.close()
    return {
        "stored": stored,
        "distinct": distinct,
        "max_id": max_id,
        "digest": digest,
        "ids": ids,
        "states": states,
        "cron_triggers": triggers,
    }


# ----------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------
def deliver(args, odoo, server, db, agency_id, events_file, sandbox_root, label):
    meter = CpuMeter(server, db)
    meter.start()
    result = server.send_webhooks(
        agency_id,
        args.secret,
        events_file,
        args.clients,
        sandbox_root,
        f"{db}-webhooks-client-{label}",
    )
    cpu = meter.stop()
    result.update(cpu)
    result["label"] = label
    log(
        f"{label}: {result['sent']} events in {result['wall_s']:.1f} s, "
        f"{result['accepted_per_s']:.1f} accepted/s, p50 "
        f"{result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
        f"{result['statuses']} {result['answers']}"
    )
    return result


def bench(args, odoo, SandboxProcess, template, sandbox_root, result):
    """One run; fills ``result`` as it goes (the report shows what was measured
    when something crashes)."""
    db = f"bench_webhooks_{args.cases}"
    copy_db(template, db)
    problems = result["problems"]
    result["db"] = db
    sandbox = server = None
    try:
        generate(db, args.cases * args.invoices_per_debtor, args.cases, "fresh")
        checkpoint(db)
        api_key = "bench-" + secrets.token_hex(8)
        sandbox = SandboxProcess(api_key=api_key, port=0)
        sandbox.start()
        log(f"sandbox at {sandbox.base_url}; handing off {args.cases} debtors on {db}")
        prepared = worker(
            odoo,
            db,
            "prepare",
            "--base-url",
            sandbox.base_url,
            "--api-key",
            api_key,
            "--secret",
            args.secret,
            *(["--cron-inactive"] if args.cron_inactive else []),
        )
        agency_id = prepared["agency_id"]
        cases = [case for case in prepared["cases"] if case["agency_case_id"]]
        if len(cases) != len(prepared["cases"]) or not cases:
            problems.append(
                f"{len(prepared['cases']) - len(cases)} of {len(prepared['cases'])} "
                f"cases not at the agency (requests: {prepared['requests']})"
            )
        payments_per_case = min(args.payments_per_case, args.events // len(cases))
        log(
            f"{len(cases)} cases at the agency in {prepared['handoff_s']:.1f} s; "
            f"activating them, {payments_per_case} payments each"
        )
        start = time.perf_counter()
        sandbox_cases = agency_side(sandbox, cases, payments_per_case)
        result["agency_side_s"] = time.perf_counter() - start
        events, payment_ids = build_events(sandbox_cases, args.events, sandbox.base_url)
        sent_ids = {event["id"] for event in events}
        events_file = WORK_DIR / f"{db}-events.jsonl"
        with open(events_file, "w", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps(event) + "\n")
        result.update(
            cases=len(cases),
            debtors=prepared["debtors"],
            invoices=prepared["invoices"],
            payments=len(payment_ids),
            payment_events=sum(e["type"] == "payment.created" for e in events),
            case_events=sum(e["type"] == "case.updated" for e in events),
            events=len(events),
            payment_model=prepared["payment_model"],
            booking=prepared["booking"],
        )

        server = OdooServer(odoo, db, args.workers, args.db_filter)
        log(f"starting odoo-bin --workers {args.workers} on {server.url}")
        start = time.perf_counter()
        server.start()
        warm = warm_up(server, agency_id, args.clients)
        result["server_start_s"] = time.perf_counter() - start
        result["warm_up_statuses"] = warm
        if not set(warm) <= {200, 401}:
            problems.append(f"warm-up answered {warm}")

        first = deliver(
            args, odoo, server, db, agency_id, events_file, sandbox_root, "first"
        )
        after_first = inbox(db, agency_id)
        second = deliver(
            args, odoo, server, db, agency_id, events_file, sandbox_root, "second"
        )
        after_second = inbox(db, agency_id)
        server.stop()
        result["passes"] = [first, second]
        result["stored_first"] = after_first["stored"]
        result["stored_second"] = after_second["stored"]
        result["cron_triggers_first"] = after_first["cron_triggers"]
        result["cron_triggers"] = after_second["cron_triggers"]
        if after_first["ids"] != sent_ids or after_first["stored"] != len(sent_ids):
            problems.append(
                f"{after_first['stored']} events stored ({after_first['distinct']} "
                f"distinct, {len(sent_ids - after_first['ids'])} sent ids missing, "
                f"{len(after_first['ids'] - sent_ids)} unknown) for "
                f"{len(sent_ids)} distinct events sent"
            )
        if first["statuses"] != {"200": len(events)}:
            problems.append(f"first delivery answered {first['statuses']}")
        if first["answers"] != {"accepted": len(events)}:
            problems.append(f"first delivery: {first['answers']}")
        if second["answers"] != {"duplicate": len(events)}:
            problems.append(f"second delivery: {second['answers']}")
        if (
            after_second["stored"],
            after_second["max_id"],
            after_second["digest"],
        ) != (after_first["stored"], after_first["max_id"], after_first["digest"]):
            problems.append(
                f"the second delivery changed the inbox ({after_first['stored']} "
                f"-> {after_second['stored']} events, or their content)"
            )
        if after_second["cron_triggers"] != after_first["cron_triggers"]:
            problems.append(
                f"the second delivery queued "
                f"{after_second['cron_triggers'] - after_first['cron_triggers']} "
                f"more cron triggers"
            )
        if after_second["states"] != {"received": len(events)}:
            problems.append(f"events before processing: {after_second['states']}")

        log("processing the stored events")
        options = ["--agency-id", str(agency_id)]
        if args.profile:
            options += ["--profile", str(WORK_DIR / f"profile_{db}")]
        applied = worker(odoo, db, "apply", *options)
        result["apply"] = applied
        problems += check_apply(applied, len(events), payment_ids)
        if args.profile:
            log(f"profiling {PROFILE_EVENTS} deliveries in one process")
            more, _ids = build_events(
                sandbox_cases, PROFILE_EVENTS + 20, sandbox.base_url, payments=False
            )
            profile_file = WORK_DIR / f"{db}-profile-events.jsonl"
            with open(profile_file, "w", encoding="utf-8") as handle:
                for event in more:
                    handle.write(json.dumps(event) + "\n")
            result["profile"] = worker(
                odoo,
                db,
                "profile",
                "--agency-id",
                str(agency_id),
                "--secret",
                args.secret,
                "--events-file",
                str(profile_file),
                "--sandbox-root",
                str(sandbox_root),
                "--profile",
                str(WORK_DIR / f"profile_{db}"),
                *(["--db-filter"] if args.db_filter else []),
            )
    except BaseException as error:
        problems.append(f"crashed: {error!r}"[:500])
        raise
    finally:
        if server:
            server.stop()
        if sandbox:
            sandbox.stop()
            sandbox.cleanup()
        if not args.keep_db:
            drop_db(db)


# ----------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000, metavar="N")
    parser.add_argument("--clients", type=int, default=8, metavar="C")
    parser.add_argument("--cases", type=int, default=200, metavar="K", help="debtors")
    parser.add_argument("--workers", type=int, default=2, metavar="W")
    parser.add_argument(
        "--payments-per-case",
        type=int,
        default=3,
        help="payments the agency registers on each case (default 3)",
    )
    parser.add_argument(
        "--invoices-per-debtor", type=int, default=3, help="(default 3)"
    )
    parser.add_argument(
        "--no-db-filter",
        dest="db_filter",
        action="store_false",
        help="run odoo-bin with -d alone, without --db-filter (Odoo then takes the "
        "database list from -d instead of connecting to 'postgres' for it on every "
        "request without a session, as the agency's are)",
    )
    parser.add_argument(
        "--cron-inactive",
        action="store_true",
        help="archive the inbox's scheduled action before the deliveries: its "
        "_trigger() then queues nothing, which shows what the wake-up of the cron "
        "after each new event costs (the processing is run by the bench anyway)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"afterwards, cProfile the processing and {PROFILE_EVENTS} sequential "
        f"deliveries in one process (new, then duplicates); stats in {WORK_DIR}",
    )
    add_common_options(parser, "the addon and the sandbox")
    args = parser.parse_args(argv)
    if args.events < args.cases:
        parser.error("--events must be at least --cases")
    args.secret = base64.b64encode(secrets.token_bytes(32)).decode()
    return args


def main(argv=None):
    args = parse_args(argv)
    run_in_venv(args.python, __file__, modules=("psutil", "psycopg2"))
    odoo_path = find_odoo(args.odoo_path, args.python)
    addon_root, addon_note = addon_source(args.addon_ref)
    SandboxProcess = sandbox_source(addon_root)
    odoo = Odoo(args.python, odoo_path, addon_root)
    notes = [
        f"{MODULE} and {SANDBOX} {addon_note}; Odoo {odoo_path}, python "
        f"{args.python}, {os.cpu_count()} CPUs; odoo-bin --workers {args.workers}; "
        f"{args.events} events from {args.clients} concurrent clients, "
        f"{args.cases} debtors x {args.invoices_per_debtor} invoices, "
        f"{args.payments_per_case} payments per case; "
        + ("--db-filter ^DB$" if args.db_filter else "-d DB without --db-filter")
        + ("; the inbox's scheduled action archived" if args.cron_inactive else "")
    ]
    if args.profile:
        notes.append("profiled: the processing's time is inflated by cProfile")
    base = ensure_base_template(odoo, args.base_template)
    template = ensure_bench_template(odoo, base, True)
    result = {"problems": []}
    try:
        bench(args, odoo, SandboxProcess, template, addon_root, result)
    finally:
        print_report(result, notes)
    sys.exit(1 if result["problems"] else 0)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    log(f"done in {time.perf_counter() - start:.0f} s")
