#!/usr/bin/env python3
"""Time the follow-up run of one company on Odoo's multi-process server, with one
cron worker and with two.

A throwaway database is filled as for ``bench/run`` (``datagen.py``, scenario
``escalated``: N open invoices over N/20 customers, one run reaches every level).
For each number of cron workers W (``--cron-workers``, default 1 then 2), a copy of
it gets every scheduled action switched off but the follow-up's daily runs (the
mail queue is not sent: the run is timed, not an SMTP server), and
``odoo-bin --workers 2 --max-cron-threads W`` is started on it. Once it answers,
the follow-up's jobs are made due and the cron workers woken (``NOTIFY
cron_trigger``, as Odoo's own triggers do); the driver polls the run until it is
done. It prints the wall time from the wake-up to the run's end, the actions, the
emails, the customers with more than one action or email (must be 0), and the
ratio of the times. Target: two workers in at most 60 % of one worker's time.

Figures only: nothing here asserts a time; the exit status is not 0 when a run
did not finish or something was doubled.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from benchlib import (  # noqa: E402
    MODULE,
    add_common_options,
    checkpoint,
    copy_db,
    drop_db,
    generated_db,
    log,
    prepare_odoo,
)
from odoo_server import OdooServer  # noqa: E402

TARGET_RATIO = 0.60
JOBS = ("ir_cron_followup_run", "ir_cron_followup_run_second")
POLL_SECONDS = 0.1


def psql(db, sql):
    return subprocess.run(
        ["psql", "-X", "-q", "-At", "-d", db, "-c", sql],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def job_ids(db):
    names = ",".join(f"'{name}'" for name in JOBS)
    rows = psql(
        db,
        "SELECT res_id FROM ir_model_data WHERE module = 'receivables_followup' "
        f"AND model = 'ir.cron' AND name IN ({names})",
    )
    return [int(row) for row in rows.split()]


def prepare(db):
    """Only the follow-up's daily runs scheduled, not due yet."""
    ids = ",".join(map(str, job_ids(db)))
    psql(
        db,
        f"UPDATE ir_cron SET active = (id IN ({ids})); "
        f"UPDATE ir_cron SET nextcall = now() + interval '1 day' WHERE id IN ({ids}); "
        "DELETE FROM ir_cron_trigger;",
    )
    checkpoint(db)


def wake(db):
    ids = ",".join(map(str, job_ids(db)))
    psql(
        db,
        "UPDATE ir_cron SET nextcall = (now() at time zone 'UTC') "
        f"- interval '1 minute' WHERE id IN ({ids})",
    )
    # Odoo's cron workers listen in the ``postgres`` database
    psql("postgres", f"SELECT pg_notify('cron_trigger', '{db}')")


def job_shares(logfile):
    """{job name: (calls, units of work)} from Odoo's cron log lines."""
    shares = {}
    for line in Path(logfile).read_text(errors="replace").splitlines():
        if " processed " not in line or "records remaining" not in line:
            continue
        name = line.split("Job '")[1].split("'")[0]
        units = int(line.split(" processed ")[1].split(" records")[0])
        calls, total = shares.get(name, (0, 0))
        shares[name] = (calls + 1, total + units)
    return shares


def wait_for_run(db, deadline):
    """The state of the newest run once it is done, or at the deadline.

    One connection, polled every ``POLL_SECONDS``: a psql process per poll cost
    about a third of a core, taken from the two workers, who use both cores,
    and hardly from one worker, who leaves a core idle.
    """
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            while True:
                cr.execute("SELECT state FROM followup_run ORDER BY id DESC LIMIT 1")
                row = cr.fetchone()
                state = row and row[0]
                if state == "done" or time.monotonic() >= deadline:
                    return state
                time.sleep(POLL_SECONDS)
    finally:
        conn.close()


def counts(db):
    actions, emails, doubled_actions, doubled_emails, failed = psql(
        db,
        """
        SELECT (SELECT count(*) FROM followup_history WHERE state = 'done'),
               (SELECT count(*) FROM mail_mail m
                  JOIN mail_message msg ON msg.id = m.mail_message_id
                 WHERE msg.model = 'res.partner'),
               (SELECT count(*) FROM (SELECT partner_id FROM followup_history
                  GROUP BY partner_id, date HAVING count(*) > 1) doubled),
               (SELECT count(*) FROM (SELECT msg.res_id FROM mail_mail m
                  JOIN mail_message msg ON msg.id = m.mail_message_id
                 WHERE msg.model = 'res.partner'
                 GROUP BY msg.res_id HAVING count(*) > 1) doubled),
               (SELECT count(*) FROM followup_history WHERE state = 'failed')
        """,
    ).split("|")
    return {
        "actions": int(actions),
        "emails": int(emails),
        "doubled": int(doubled_actions) + int(doubled_emails),
        "failed": int(failed),
    }


def time_run(odoo, data_db, cron_workers, attempt, timeout):
    db = f"bench_workers_{cron_workers}_{attempt}"
    copy_db(data_db, db)
    try:
        prepare(db)
        server = OdooServer(
            odoo,
            db,
            2,
            cron_threads=cron_workers,
            label=f"cron{cron_workers}",
            log=["odoo.addons.base.models.ir_cron:INFO"],
        )
        log(f"starting odoo-bin --workers 2 --max-cron-threads {cron_workers} on {db}")
        # odoo-bin appends to its log file: this run's lines only
        server.logfile.unlink(missing_ok=True)
        server.start()
        try:
            start = time.monotonic()
            wake(db)
            state = wait_for_run(db, start + timeout)
            elapsed = time.monotonic() - start
        finally:
            server.stop()
        if state != "done":
            raise RuntimeError(
                f"the run did not finish in {timeout:.0f} s; {server.logfile}"
            )
        result = counts(db)
        result["seconds"] = elapsed
        result["shares"] = job_shares(server.logfile)
        return result
    finally:
        drop_db(db)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int)
    parser.add_argument(
        "--cron-workers", type=int, nargs="+", default=[1, 2], metavar="W"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0)
    add_common_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    odoo, template, addon_note = prepare_odoo(args, __file__)
    customers = args.customers or max(args.invoices // 20, 1)
    data_db = f"bench_workers_{args.invoices}_data"
    results = {}
    with generated_db(
        args, template, data_db, args.invoices, customers, "escalated"
    ) as data:
        for attempt in range(args.repeat):
            for cron_workers in args.cron_workers:
                result = time_run(odoo, data, cron_workers, attempt, args.timeout)
                log(f"{cron_workers} cron worker(s): {result}")
                results.setdefault(cron_workers, []).append(result)
    print(
        f"# {MODULE} {addon_note}; {args.invoices} invoices, {customers} customers; "
        "odoo-bin --workers 2"
    )
    print(
        "| cron workers | run s (median; each) | actions | emails | doubled | failed |"
    )
    print("|---|---|---|---|---|---|")
    ok = True
    medians = {}
    for cron_workers, runs in results.items():
        seconds = [run["seconds"] for run in runs]
        medians[cron_workers] = statistics.median(seconds)
        last = runs[-1]
        each = ", ".join(f"{value:.1f}" for value in seconds)
        print(
            f"| {cron_workers} | {medians[cron_workers]:.1f} ({each}) | "
            f"{last['actions']:,} | {last['emails']:,} | {last['doubled']} | "
            f"{last['failed']} |"
        )
        for name, (calls, units) in sorted(last["shares"].items()):
            print(f"|  | {name}: {calls} calls, {units:,} units | | | | |")
        ok = ok and all(not run["doubled"] and not run["failed"] for run in runs)
        ok = ok and len({(run["actions"], run["emails"]) for run in runs}) == 1
    if 1 in medians and 2 in medians:
        ratio = medians[2] / medians[1]
        met = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(
            f"# target: two workers in <= {TARGET_RATIO:.0%} of one worker's time: "
            f"{ratio:.0%}, {met}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
