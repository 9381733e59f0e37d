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
import secrets
import sys
import threading
import time
from datetime import UTC
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_handoff import sandbox_source  # noqa: E402
from benchlib import (  # noqa: E402
    MODULE,
    add_common_options,
    copy_db,
    drop_db,
    generate,
    log,
    prepare_odoo,
    run_in_venv,
)
from odoo_server import OdooServer  # noqa: E402
from soak_partner import (  # noqa: E402
    SANDBOX_SETTINGS,
    Partner,
    add_faults,
    fault_hits,
    replay_storm,
)
from soak_report import (  # noqa: E402
    compare,
    delivery_figures,
    report,
    server_errors,
    submissions,
)


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
    # as the inbox's scheduled action picks them: a failure of the agency is
    # retried at its time however many tries it took, another failure 5 times
    events = database.one(
        "SELECT count(*) FROM followup_agency_event WHERE agency_id = %s "
        "AND (state = 'received' OR (state = 'failed' AND (next_attempt IS NOT NULL "
        "OR attempts < 5)))",
        [agency_id],
    )[0]
    return requests, events


def last_poll(database, agency_id):
    return database.one(
        "SELECT last_poll, paused, pause_reason FROM followup_agency WHERE id = %s",
        [agency_id],
    )


# ----------------------------------------------------------------------
# one run
# ----------------------------------------------------------------------
def wait_until(predicate, timeout, database, what, every=2.0, partner=None):
    """Wait for ``predicate()``, waking the cron workers; the ``partner`` goes
    on working the cases that reach the agency meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        database.tick()
        if partner:
            partner.step()
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
            created = (
                not thread.is_alive()
                and not database.one(
                    "SELECT count(*) FROM followup_agency_request WHERE agency_id = %s "
                    "AND kind = 'create' AND state IN ('pending', 'retry')",
                    [agency_id],
                )[0]
            )
            at_sandbox = partner.step()
            if not thread.is_alive() and "error" in handoff:
                raise RuntimeError(f"the hand-off failed: {handoff['error']}")
            if created and at_sandbox == len(partner.handled):
                break
            time.sleep(1.0)
        else:
            # a case whose creation met fault after fault waits for its backoff;
            # the partner works it when it arrives, in the waits below
            log(f"{args.timeout:.0f} s: cases still on their way to the agency")
        thread.join()
        result["handoff"] = handoff
        log(
            f"{len(partner.handled)} cases at the sandbox, {partner.payments} "
            "payments; waiting for the sandbox's deliveries"
        )
        wait_until(
            lambda: not sandbox.webhooks()["busy"],
            args.timeout,
            database,
            "webhooks",
            partner=partner,
        )
        result["storm_s"] = time.perf_counter() - started
        log("the storm again: every delivered callback, 8 at a time")
        result["replay"] = replay_storm(
            server, agency_id, secret, sandbox, sandbox_root
        )
        result["faults"] = fault_hits(sandbox)
        sandbox.clear_faults()
        quiet = time.time()
        log("faults stopped; triggering the poll until it ran twice after it")
        database.trigger("ir_cron_agency_poll")
        polls = set()

        def settled():
            handled = len(partner.handled)
            partner.step()
            if len(partner.handled) != handled or sandbox.webhooks()["busy"]:
                return False  # a late case's callbacks are still on their way
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
        if len(partner.handled) != len(sandbox.cases()):
            problems.append(
                f"the partner worked {len(partner.handled)} of the agency's cases"
            )
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
        from benchlib import Odoo, addon_source, find_odoo

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
