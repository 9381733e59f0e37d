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
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_followup_run import (  # noqa: E402
    MODULE,
    WORK_DIR,
    Odoo,
    add_common_options,
    addon_source,
    bench_result,
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
from bench_handoff import SANDBOX, sandbox_source  # noqa: E402

TARGET_RATE = 150.0
TARGET_P99_MS = 300.0
PAYMENT_SHARE = 0.10
PROFILE_EVENTS = 500


# ----------------------------------------------------------------------
# Processes
# ----------------------------------------------------------------------
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker(odoo, db, mode, *options):
    """Run ``webhook_worker.py <mode>`` on ``db``; return its result."""
    return odoo.run_worker(
        "webhook_worker.py", db, *options, mode=mode, logname=f"{db}-webhooks-{mode}"
    )


class OdooServer:
    """``odoo-bin --workers W`` on a free loopback port, in its own process group
    (``cron_threads``: its cron workers, none by default)."""

    def __init__(
        self, odoo, db, workers, db_filter=True, cron_threads=0, label=None, log=()
    ):
        self.odoo = odoo
        self.db = db
        self.workers = workers
        self.db_filter = db_filter
        self.cron_threads = cron_threads
        self.log_handlers = log
        self.port = free_port()
        self.gevent_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logfile = WORK_DIR / "logs" / f"{db}-{label or 'webhooks'}-server.log"
        self.process = None

    def start(self, timeout=180.0):
        import requests

        cmd = [
            self.odoo.python,
            f"{self.odoo.odoo_path}/odoo-bin",
            "-d",
            self.db,
            "--workers",
            str(self.workers),
            "--max-cron-threads",
            str(self.cron_threads),
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(self.port),
            "--gevent-port",
            str(self.gevent_port),
            *(["--db-filter", f"^{self.db}$"] if self.db_filter else []),
            f"--addons-path={self.odoo.addons}",
            f"--data-dir={self.odoo.data_dir}",
            "--limit-time-real",
            "1200",
            "--limit-time-cpu",
            "1200",
            "--log-level",
            "warn",
            "--logfile",
            str(self.logfile),
            *(f"--log-handler={handler}" for handler in self.log_handlers),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=WORK_DIR,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo-bin exited; see {self.logfile}")
            try:
                if requests.get(f"{self.url}/web/login", timeout=30).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"odoo-bin did not answer in {timeout:.0f} s")

    def processes(self):
        import psutil

        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self):
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def cpu_of(processes):
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except Exception:  # noqa: BLE001, S110 - gone meanwhile
            pass
    return total


def postgres_backends(db):
    import psutil

    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if cmdline.startswith("postgres: ") and f" {db} " in f"{cmdline} ":
            found.append(process)
    return found


class CpuMeter:
    """CPU seconds used by the Odoo server's processes and the database's
    PostgreSQL backends between ``start`` and ``stop`` (backends that came and
    went in between are missed: an approximation)."""

    def __init__(self, server, db):
        self.server = server
        self.db = db

    def start(self):
        self.seen = {}
        for process in self.server.processes() + postgres_backends(self.db):
            self.seen[process.pid] = cpu_of([process])

    def stop(self):
        odoo = pg = 0.0
        server_pids = {p.pid for p in self.server.processes()}
        for process in self.server.processes() + postgres_backends(self.db):
            used = cpu_of([process]) - self.seen.get(process.pid, 0.0)
            if process.pid in server_pids:
                odoo += used
            else:
                pg += used
        return {"odoo_cpu_s": odoo, "postgres_cpu_s": pg}


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
    url = f"{server.url}/receivables_followup/agency/{agency_id}/webhook"
    out = odoo._run(
        [
            odoo.python,
            str(BENCH_DIR / "webhook_client.py"),
            "--url",
            url,
            "--secret",
            args.secret,
            "--events",
            str(events_file),
            "--clients",
            str(args.clients),
            "--sandbox-root",
            str(sandbox_root),
        ],
        f"{db}-webhooks-client-{label}",
    )
    cpu = meter.stop()
    result = bench_result(out, "the client")
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


def check_apply(applied, events, payment_ids):
    problems = []
    first, second = applied["first"], applied["second"]
    if first["event_states"] != {"done": events}:
        problems.append(
            f"events after processing: {first['event_states']} (first errors: "
            f"{applied['errors']})"
        )
    if applied["applied"] != events:
        problems.append(f"{applied['applied']} events processed for {events} stored")
    if applied["again_processed"]:
        problems.append(
            f"the scheduled action run again processed {applied['again_processed']}"
        )
    if applied["replayed"] != events:
        problems.append(f"the replay processed {applied['replayed']} of {events}")
    if second["event_states"] != {"done": events}:
        problems.append(f"events after the replay: {second['event_states']}")
    for key in ("account_move", "account_move_line", "partial_reconcile", "payments"):
        if first.get(key) != second.get(key):
            problems.append(
                f"the replay changed {key}: {first.get(key)} -> {second.get(key)}"
            )
    if applied["payment_model"]:
        booked = set(first["booked_ids"])
        if booked != payment_ids or first["payments"] != len(payment_ids):
            problems.append(
                f"{first['payments']} agency payments ({first['payment_states']}, "
                f"{len(booked)} distinct booked; {len(payment_ids - booked)} "
                f"missing, {len(booked - payment_ids)} unknown) for "
                f"{len(payment_ids)} payments in the payment events"
            )
        if set(second["booked_ids"]) != booked:
            problems.append("the replay changed which payments are booked")
    return problems


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def met(flag):
    return "met" if flag else "NOT met"


def print_report(result, notes):
    print()
    for note in notes:
        print(f"# {note}")
    columns = [
        ("pass", 6),
        ("events", 6),
        ("wall s", 6),
        ("events/s", 8),
        ("p50 ms", 6),
        ("p99 ms", 6),
        ("max ms", 6),
        ("errors", 6),
        ("answers", 26),
        ("CPU s odoo/pg/client", 20),
    ]
    print(" ".join(name.rjust(width) for name, width in columns))
    for row in result.get("passes", []):
        errors = {k: v for k, v in row["statuses"].items() if k != "200"}
        answers = ", ".join(f"{k} {v}" for k, v in sorted(row["answers"].items()))
        cpu = (
            f"{row['odoo_cpu_s']:.1f}/{row['postgres_cpu_s']:.1f}/"
            f"{row['client_cpu_s']:.1f}"
        )
        values = [
            row["label"],
            row["sent"],
            f"{row['wall_s']:.1f}",
            f"{row['accepted_per_s']:.1f}",
            f"{row['p50_ms']:.0f}",
            f"{row['p99_ms']:.0f}",
            f"{row['max_ms']:.0f}",
            sum(errors.values()) if errors else 0,
            answers,
            cpu,
        ]
        print(
            " ".join(
                str(v).rjust(w) for v, (_n, w) in zip(values, columns, strict=True)
            )
        )
        if errors:
            print(f"#   errors by status: {errors}; first: {row['errors']}")
    if "events" in result:
        print(
            f"# {result['cases']} cases ({result['debtors']} debtors, "
            f"{result['invoices']} invoices), {result['payments']} payments registered "
            f"at the agency; {result['events']} events: {result['payment_events']} "
            f"payment.created, {result['case_events']} case.updated"
        )
    if "stored_first" in result:
        print(
            f"# events stored: {result['stored_first']} after the first delivery "
            f"(distinct sent: {result['events']}), {result['stored_second']} after "
            f"the second; cron triggers queued: {result['cron_triggers_first']} "
            f"by the first delivery, {result['cron_triggers']} after the second"
        )
    applied = result.get("apply")
    if applied:
        first, second, before = applied["first"], applied["second"], applied["before"]
        rate = applied["applied"] / applied["apply_s"] if applied["apply_s"] else 0
        print(
            f"# applied: {applied['applied']} events in {applied['apply_s']:.1f} s "
            f"({rate:.1f} events/s, {applied['apply_calls']} calls of the scheduled "
            f"action; {applied['apply_http_calls']} reads from the agency, "
            f"{applied['apply_http_s']:.1f} s); states {first['event_states']}; "
            f"cases {before['case_states']} -> {first['case_states']}; entries "
            f"+{first['account_move'] - before['account_move']}, journal items "
            f"+{first['account_move_line'] - before['account_move_line']}, "
            f"reconciliations "
            f"+{first['partial_reconcile'] - before['partial_reconcile']}, "
            f"messages +{first['mail_message'] - before['mail_message']}, "
            f"activities +{first['mail_activity'] - before['mail_activity']}; "
            f"peak RSS {applied['rss_peak_mb']:.0f} MB"
        )
        if applied["payment_model"]:
            print(
                f"# payments booked: {first['payments_booked_distinct']} "
                f"({first['payment_states']}) for {result['payments']} distinct "
                f"payments in the payment events"
            )
        else:
            print(
                "# payments booked: not checked (followup.agency.payment is not in "
                "the addon measured)"
            )
        replay_rate = (
            applied["replayed"] / applied["replay_s"] if applied["replay_s"] else 0
        )
        print(
            f"# second processing: the scheduled action again processed "
            f"{applied['again_processed']}; replay of all {applied['replayed']} "
            f"events in {applied['replay_s']:.1f} s ({replay_rate:.1f} events/s): "
            f"entries {first['account_move']} -> {second['account_move']}, journal "
            f"items {first['account_move_line']} -> {second['account_move_line']}, "
            f"reconciliations {first['partial_reconcile']} -> "
            f"{second['partial_reconcile']}, agency payments "
            f"{first.get('payments', '-')} -> {second.get('payments', '-')}, "
            f"messages {first['mail_message']} -> {second['mail_message']}"
        )
    profile = result.get("profile")
    if profile or (applied and applied.get("profile")):
        print(f"# profile (cProfile, one process; stats in {WORK_DIR}):")
    if profile:
        for label in ("new", "duplicate"):
            part = profile[label]
            print(
                f"#   {profile['events']} {label} deliveries one after the other: "
                f"{part['wall_ms']:.1f} ms wall, {part['cpu_ms']:.1f} ms CPU each "
                f"(answers {part['answers']}); ms per delivery (calls):"
            )
            for spot, ms, calls in part["spots"]:
                print(f"#     {spot:<44} {ms:7.2f} ({calls:g})")
    if applied and applied.get("profile"):
        print("#   processing, ms per event (calls per event, ms per call):")
        for spot, ms, calls in applied["profile"]:
            per_call = f", {ms / calls:.1f}" if calls else ""
            print(f"#     {spot:<44} {ms:7.2f} ({calls:g}{per_call})")
    print(
        "# exact counts: "
        + ("yes" if not result["problems"] else "NO: " + "; ".join(result["problems"]))
    )
    for row in result.get("passes", []):
        ok = row["accepted_per_s"] >= TARGET_RATE and row["p99_ms"] < TARGET_P99_MS
        print(
            f"# target >= {TARGET_RATE:.0f} events/s accepted with p99 < "
            f"{TARGET_P99_MS:.0f} ms ({row['label']} delivery): "
            f"{row['accepted_per_s']:.1f} events/s, p99 {row['p99_ms']:.0f} ms, "
            f"{met(ok)}"
        )


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
