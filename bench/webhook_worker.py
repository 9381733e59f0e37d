"""The Odoo side of the agency-callback benchmark: one mode per process.

Run by ``bench_webhooks.py`` with the virtualenv's Python, never imported by
Odoo. Each mode opens the registry of the bench database and prints one line
``BENCH_RESULT {json}`` on stdout for the driver.

Modes:
  prepare  hand the bench customers over to the agency sandbox as
           ``bench/handoff`` does (its ``handoff_worker`` functions: addresses,
           due dates apart, the wizard by chunks of debtors, the outbox until
           nothing is due) to a Debitura agency in test mode without documents,
           with the webhook secret and, when the addon books agency payments
           (``followup.agency.payment``), a clearing account, a success-fee
           account and the agency as a contact; prints the cases sent
  apply    process the stored callbacks as Odoo's cron runner does
           (``followup.agency.event._cron_process_events()`` and a commit, again
           until nothing is received), timed; then the scheduled action once more
           (it must find nothing), then a replay: every event set back to
           ``received`` and processed again, which must change no count (entries,
           journal items, agency payments)
"""

import cProfile
import io
import json
import pstats
import sys
import time
from types import SimpleNamespace

from followup_worker import rss_mb, run_in_odoo, worker_parser
from handoff_worker import (
    TEAM_MEMBER,
    give_addresses,
    hand_off,
    send_outbox,
    spread_tied_due_dates,
)

PAYMENT_MODEL = "followup.agency.payment"


# ----------------------------------------------------------------------
# prepare
# ----------------------------------------------------------------------
def _account(env, company, code, name, account_type, reconcile):
    Account = env["account.account"].with_company(company)
    found = Account.search(
        [*Account._check_company_domain(company), ("code", "=", code)], limit=1
    )
    return found or Account.create(
        {
            "code": code,
            "name": name,
            "account_type": account_type,
            "reconcile": reconcile,
        }
    )


def booking_setup(env, agency):
    """Where the agency's collected payments are booked, when the addon books
    them (fields of the agency that name them); returns what was set."""
    wanted = ("clearing_account_id", "fee_account_id", "agency_partner_id")
    if not all(name in agency._fields for name in wanted):
        return {}
    company = agency.company_id
    values = {
        "clearing_account_id": _account(
            env, company, "467900", "Agency clearing (bench)", "asset_current", True
        ).id,
        "fee_account_id": _account(
            env, company, "622900", "Agency success fees (bench)", "expense", False
        ).id,
        "agency_partner_id": env["res.partner"]
        .create({"name": "Debitura (bench)", "is_company": True})
        .id,
    }
    if "journal_id" in agency._fields and not agency.journal_id:
        values["journal_id"] = (
            env["account.journal"]
            .search(
                [
                    *env["account.journal"]._check_company_domain(company),
                    ("type", "=", "general"),
                ],
                limit=1,
            )
            .id
        )
    agency.write(values)
    return {name: bool(value) for name, value in values.items()}


def create_agency(env, args):
    """A Debitura agency in test mode pointing at the sandbox, without documents
    (as ``handoff_worker.setup`` makes it), every other agency archived."""
    company = env.ref("base.main_company")
    company.followup_handoff_min_days = 0
    env["followup.agency"].search([]).write({"active": False})
    return env["followup.agency"].create(
        {
            "name": "Debitura Sandbox (bench)",
            "code": "debitura",
            "company_id": company.id,
            "base_url": args.base_url,
            "api_key": args.api_key,
            "agency_user_email": TEAM_MEMBER,
            "is_test": True,
            "send_documents": False,
        }
    )


def mode_prepare(env, args, _odoo):
    options = SimpleNamespace(chunk=args.chunk)
    countries = give_addresses(env)
    spread_tied_due_dates(env)
    agency = create_agency(env, args).sudo()
    agency.webhook_secret = args.secret
    booking = booking_setup(env, agency)
    if args.cron_inactive:
        # Odoo's _trigger() then queues nothing (no trigger row, no NOTIFY)
        env.ref("receivables_followup.ir_cron_agency_events").active = False
    env.cr.commit()
    start = time.perf_counter()
    handed = hand_off(env, options, SimpleNamespace(seconds=0.0, calls=0))
    sent = send_outbox(env)
    cr = env.cr
    cr.execute(
        "SELECT id, agency_case_id, creditor_reference, state FROM "
        "followup_agency_case WHERE agency_id = %s ORDER BY id",
        [agency.id],
    )
    cases = [
        {"id": row[0], "agency_case_id": row[1], "reference": row[2], "state": row[3]}
        for row in cr.fetchall()
    ]
    cr.execute(
        "SELECT state, count(*) FROM followup_agency_request WHERE agency_id = %s "
        "GROUP BY state",
        [agency.id],
    )
    requests = dict(cr.fetchall())
    return {
        "agency_id": agency.id,
        "cases": cases,
        "requests": requests,
        "debtors": handed["debtors"],
        "invoices": handed["invoices_selected"],
        "handoff_s": time.perf_counter() - start,
        "outbox_s": sent["outbox_s"],
        "booking": booking,
        "payment_model": PAYMENT_MODEL in env,
        "countries": countries,
    }


# ----------------------------------------------------------------------
# apply
# ----------------------------------------------------------------------
def snapshot(env, agency_id):
    """Counts that a second processing must leave as they are."""
    cr = env.cr
    result = {}
    for key, sql in (
        ("account_move", "SELECT count(*) FROM account_move"),
        (
            "account_move_posted",
            "SELECT count(*) FROM account_move WHERE state = 'posted'",
        ),
        ("account_move_line", "SELECT count(*) FROM account_move_line"),
        ("partial_reconcile", "SELECT count(*) FROM account_partial_reconcile"),
        ("mail_message", "SELECT count(*) FROM mail_message"),
        ("mail_activity", "SELECT count(*) FROM mail_activity"),
    ):
        cr.execute(sql)
        result[key] = cr.fetchone()[0]
    cr.execute(
        "SELECT state, count(*) FROM followup_agency_case WHERE agency_id = %s "
        "GROUP BY state ORDER BY state",
        [agency_id],
    )
    result["case_states"] = dict(cr.fetchall())
    cr.execute(
        "SELECT state, count(*) FROM followup_agency_event WHERE agency_id = %s "
        "GROUP BY state ORDER BY state",
        [agency_id],
    )
    result["event_states"] = dict(cr.fetchall())
    if PAYMENT_MODEL in env:
        table = env[PAYMENT_MODEL]._table
        cr.execute(
            f"SELECT state, count(*), count(DISTINCT agency_payment_id) "  # noqa: S608
            f"FROM {table} WHERE agency_id = %s GROUP BY state ORDER BY state",
            [agency_id],
        )
        rows = cr.fetchall()
        result["payment_states"] = {state: count for state, count, _d in rows}
        result["payments"] = sum(count for _s, count, _d in rows)
        cr.execute(
            f"SELECT count(DISTINCT agency_payment_id) FROM {table} "  # noqa: S608
            "WHERE agency_id = %s AND state = 'booked'",
            [agency_id],
        )
        result["payments_booked_distinct"] = cr.fetchone()[0]
        cr.execute(
            f"SELECT agency_payment_id FROM {table} "  # noqa: S608
            "WHERE agency_id = %s AND state = 'booked'",
            [agency_id],
        )
        result["booked_ids"] = sorted(row[0] for row in cr.fetchall())
    return result


def process_until_done(env):
    """Call the scheduled action and commit until nothing is received, as the
    cron runner does; returns (seconds, calls, events processed)."""
    Event = env["followup.agency.event"]
    start = time.perf_counter()
    calls = processed = 0
    while True:
        done, remaining = Event._cron_process_events()
        env.cr.commit()
        calls += 1
        processed += done
        env.invalidate_all()
        if not remaining:
            break
        if not done:
            raise RuntimeError(f"the inbox made no progress, {remaining} received")
    return time.perf_counter() - start, calls, processed


def errors_of(env, agency_id, limit=5):
    env.cr.execute(
        "SELECT state, left(error, 300), count(*) FROM followup_agency_event "
        "WHERE agency_id = %s AND state != 'done' GROUP BY 1, 2 ORDER BY 3 DESC "
        "LIMIT %s",
        [agency_id, limit],
    )
    return [list(row) for row in env.cr.fetchall()]


def mode_apply(env, args, _odoo):
    from odoo.addons.receivables_followup.services.debitura import client

    agency_id = args.agency_id
    http_calls = {"n": 0, "s": 0.0}

    def timed(func):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                http_calls["n"] += 1
                http_calls["s"] += time.perf_counter() - t0

        return wrapper

    for name in ("get_case", "case_payments"):
        setattr(
            client.DebituraClient, name, timed(getattr(client.DebituraClient, name))
        )
    before = snapshot(env, agency_id)
    rss_before = rss_mb()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    seconds, calls, processed = process_until_done(env)
    if profiler:
        profiler.disable()
        dump(profiler, f"{args.profile}_apply.pstats")
    first = snapshot(env, agency_id)
    first_http = dict(http_calls)
    errors = errors_of(env, agency_id)
    # the scheduled action again: nothing left to do
    again_s, _calls, again = process_until_done(env)
    # a replay of everything: the same events processed a second time
    env.cr.execute(
        "UPDATE followup_agency_event SET state = 'received' WHERE agency_id = %s",
        [agency_id],
    )
    replayed_rows = env.cr.rowcount
    env.cr.commit()
    env.invalidate_all()
    replay_s, replay_calls, replayed = process_until_done(env)
    second = snapshot(env, agency_id)
    return {
        "before": before,
        "first": first,
        "second": second,
        "apply_s": seconds,
        "apply_calls": calls,
        "applied": processed,
        "apply_http_calls": first_http["n"],
        "apply_http_s": first_http["s"],
        "errors": errors,
        "again_processed": again,
        "again_s": again_s,
        "replay_rows": replayed_rows,
        "replayed": replayed,
        "replay_s": replay_s,
        "replay_calls": replay_calls,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_mb(),
        "payment_model": PAYMENT_MODEL in env,
        "profile": spots(profiler, processed or 1, APPLY_SPOTS) if profiler else None,
    }


# ----------------------------------------------------------------------
# profile
# ----------------------------------------------------------------------
#: (label, part of the file's path, function name): the cumulative time of
#: these functions tells where a delivery's time goes
PROFILE_SPOTS = [
    ("whole request (Odoo's WSGI app)", "odoo/http.py", "__call__"),
    ("database list (no session: db_list)", "odoo/service/db.py", "list_dbs"),
    ("registry check and cursor", "odoo/http.py", "_open_registry"),
    ("the controller", "controllers/agency_webhook.py", "agency_webhook"),
    ("  signature and parsing", "followup_agency_debitura.py", "_agency_webhook_event"),
    ("  inbox INSERT", "followup_agency_event.py", "_store"),
    ("  cron trigger (ORM create)", "ir_cron.py", "_trigger"),
    ("commit", "odoo/sql_db.py", "commit"),
    ("  cron wake-up NOTIFY (after commit)", "ir_cron.py", "_notifydb"),
    ("new PostgreSQL connections", "psycopg2/__init__.py", "connect"),
    ("SQL statements", "odoo/sql_db.py", "execute"),
]


#: the same for the processing of a stored event
APPLY_SPOTS = [
    ("one event (_process)", "followup_agency_event.py", "_process"),
    ("  read the case back (HTTP)", "debitura/client.py", "get_case"),
    ("  read its payments (HTTP)", "debitura/client.py", "case_payments"),
    ("  bring the payments in line", "receivables_followup/", "_sync_agency_payments"),
    ("    book a new payment", "receivables_followup/", "_record_agency_payment"),
    ("      its entry created", "odoo/addons/account/models/account_move.py", "create"),
    ("      posted", "odoo/addons/account/models/account_move.py", "_post"),
    (
        "      reconciled",
        "odoo/addons/account/models/account_move_line.py",
        "reconcile",
    ),
    ("  apply the case", "receivables_followup/", "_apply_agency_case"),
    ("commit", "odoo/sql_db.py", "commit"),
    ("SQL statements", "odoo/sql_db.py", "execute"),
]


def spots(profiler, count, wanted=PROFILE_SPOTS):
    """ms per event spent in each of ``wanted`` (cumulative), and calls per event."""
    stats = pstats.Stats(profiler).stats
    found = []
    for label, fragment, name in wanted:
        total = calls = 0
        for (filename, _line, func), (_cc, ncalls, _tt, cumtime, _c) in stats.items():
            if func == name and fragment in filename:
                total += cumtime
                calls += ncalls
        found.append([label, round(1000 * total / count, 2), round(calls / count, 2)])
    return found


def dump(profiler, path):
    profiler.dump_stats(path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(30)
    with open(path + ".txt", "w", encoding="utf-8") as handle:
        handle.write(out.getvalue())


def mode_profile(env, args, odoo):
    """Deliver the events of ``--events-file`` one after the other to Odoo's WSGI
    application in this process (werkzeug's test client: no socket, no worker),
    under cProfile: first as new events, then again as duplicates."""
    from werkzeug.test import Client

    from odoo.tools import config

    sys.path.insert(0, args.sandbox_root)
    from agency_sandbox.signatures import signature_header

    if args.db_filter:
        config["dbfilter"] = f"^{args.db}$"
    env.cr.commit()
    with open(args.events_file, encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    client = Client(odoo.http.root)
    url = f"/receivables_followup/agency/{args.agency_id}/webhook"

    def send(event):
        raw = event["body"].encode()
        response = client.post(
            url,
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Debitura-Event": event["type"],
                "X-Debitura-Signature": signature_header(args.secret, raw),
            },
        )
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.get_data()[:300]}")
        return response.json["status"]

    warm, events = events[:20], events[20:]
    for event in warm:
        send(event)
    result = {"events": len(events)}
    for label in ("new", "duplicate"):
        profiler = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        answers = [send(event) for event in events]
        profiler.disable()
        result[label] = {
            "wall_ms": 1000 * (time.perf_counter() - wall) / len(events),
            "cpu_ms": 1000 * (time.process_time() - cpu) / len(events),
            "answers": sorted(set(answers)),
            "spots": spots(profiler, len(events)),
        }
        dump(profiler, f"{args.profile}_{label}.pstats")
    return result


MODES = {"prepare": mode_prepare, "apply": mode_apply, "profile": mode_profile}


def main():
    parser = worker_parser(__doc__, MODES)
    parser.add_argument("--base-url", help="the agency sandbox (prepare)")
    parser.add_argument("--api-key", help="(prepare)")
    parser.add_argument("--secret", help="webhook secret, base64 (prepare)")
    parser.add_argument("--chunk", type=int, default=100, help="debtors per wizard")
    parser.add_argument(
        "--cron-inactive", action="store_true", help="archive the inbox's cron"
    )
    parser.add_argument("--agency-id", type=int, help="(apply, profile)")
    parser.add_argument("--profile", help="cProfile stats to <this>_<part>.pstats")
    parser.add_argument("--events-file", help="(profile)")
    parser.add_argument("--sandbox-root", help="(profile)")
    parser.add_argument("--db-filter", action="store_true", help="(profile)")
    args = parser.parse_args()
    run_in_odoo(args, lambda env, odoo: MODES[args.mode](env, args, odoo))


if __name__ == "__main__":
    main()
