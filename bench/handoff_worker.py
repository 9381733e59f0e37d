"""The Odoo side of the hand-off benchmark: one process per run.

Run by ``bench_handoff.py`` with the virtualenv's Python, never imported by Odoo.
It opens the registry of a database the driver filled with ``datagen.py`` (the
bench customers and their open invoices), then:

1. setup, not timed: gives every bench customer a postal address the agency can
   route (the seed customer the generator clones has none: FR, DE, BE, GB and US
   with a state, in turn), sets the company's hand-off minimum to 0 days, creates
   a Debitura agency pointing at the sandbox (test mode, with or without invoice
   PDFs), and, with PDFs, serves Odoo's HTTP from a thread of this process on a
   free loopback port (``report.url``) so that wkhtmltopdf loads the report's CSS
   as it does in production, and renders one invoice to build the asset bundle;
2. the hand-off, timed: the bench customers' invoices, ``--chunk`` debtors per
   wizard (``followup.handoff.wizard._open_for`` as the follow-up manager, with the
   agency's preview of every case, then ``action_confirm``), committed after each;
3. the outbox, timed: ``followup.agency.request._cron_send_requests()`` and a
   commit, again and again until nothing is due, as Odoo's cron runner does;
4. counts of what Odoo holds, printed as ``BENCH_RESULT {json}`` for the driver,
   which compares them with the sandbox.
"""

import cProfile
import io
import json
import pstats
import resource
import threading
import time
from collections import Counter

from followup_worker import rss_mb, run_in_odoo, worker_parser

#: (country code, US state code or None, city, zip) given to the bench customers
#: in turn: the countries the agency sandbox covers, a US state where needed
ADDRESSES = [
    ("FR", None, "Lyon", "69002"),
    ("DE", None, "Berlin", "10115"),
    ("BE", None, "Bruxelles", "1000"),
    ("GB", None, "London", "EC1A 1BB"),
    ("US", "CA", "San Francisco", "94105"),
]
TEAM_MEMBER = "accountant@sandbox-creditor.example"


def children_rss_mb():
    """Peak RSS of the largest finished child (wkhtmltopdf), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


class Timer:
    """Seconds spent in a wrapped callable, and how many calls."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, func):
        timer = self

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - start
                timer.calls += 1

        return timed


# ----------------------------------------------------------------------
# setup
# ----------------------------------------------------------------------
def give_addresses(env):
    """A routable address for every bench customer (``ref`` BENCH<n>), in SQL."""
    cr = env.cr
    for index, (code, state, city, zipcode) in enumerate(ADDRESSES):
        country = env["res.country"].search([("code", "=", code)], limit=1)
        state_id = None
        if state:
            state_id = (
                env["res.country.state"]
                .search([("country_id", "=", country.id), ("code", "=", state)])
                .id
            )
        cr.execute(
            """
            UPDATE res_partner
               SET street = (id %% 97 + 1) || ' Bench Street', city = %s, zip = %s,
                   country_id = %s, state_id = %s
             WHERE ref LIKE 'BENCH%%' AND id %% %s = %s
            """,
            [city, zipcode, country.id, state_id, len(ADDRESSES), index],
        )
    env.invalidate_all()
    cr.execute(
        "SELECT c.code, count(*) FROM res_partner p JOIN res_country c "
        "ON c.id = p.country_id WHERE p.ref LIKE 'BENCH%%' GROUP BY c.code"
    )
    return dict(cr.fetchall())


def spread_tied_due_dates(env):
    """Move a debtor's invoices due the same day apart, a day earlier each.

    Works around a bug of the addon: the wizard's preview sorts each case's new
    lines by ``(due_date, id)`` (``followup.agency.case._agency_claim``) and the
    ids of new records do not compare, so two invoices of a debtor due the same
    day crash ``_open_for`` with ``TypeError: '<' not supported between instances
    of 'NewId' and 'NewId'``. Returns the number of invoices moved.
    """
    cr = env.cr
    moved = 0
    for _round in range(20):
        cr.execute(
            """
            WITH ranked AS (
                SELECT m.id, row_number() OVER (
                           PARTITION BY m.commercial_partner_id, m.currency_id,
                                        m.invoice_date_due
                           ORDER BY m.id) - 1 AS rank
                  FROM account_move m
                  JOIN res_partner p ON p.id = m.commercial_partner_id
                 WHERE p.ref LIKE 'BENCH%%' AND m.move_type = 'out_invoice'
                   AND m.state = 'posted')
            SELECT id, rank FROM ranked WHERE rank > 0
            """
        )
        ties = cr.fetchall()
        if not ties:
            break
        ids = [row[0] for row in ties]
        ranks = [row[1] for row in ties]
        for table, column, where in (
            ("account_move", "invoice_date_due", "t.id = x.id"),
            (
                "account_move_line",
                "date_maturity",
                "t.move_id = x.id AND t.display_type = 'payment_term'",
            ),
        ):
            cr.execute(
                f"""
                UPDATE {table} t SET {column} = t.{column} - x.rank
                  FROM (SELECT unnest(%s::int[]) AS id, unnest(%s::int[]) AS rank) x
                 WHERE {where}
                """,  # noqa: S608 - fixed names
                [ids, ranks],
            )
        moved += len(ids)
    env.invalidate_all()
    return moved


def serve_http(odoo):
    """Odoo's HTTP in a daemon thread on a free loopback port: wkhtmltopdf
    fetches the report's stylesheets from it, as from the server in production."""
    import werkzeug.serving

    server = werkzeug.serving.make_server("127.0.0.1", 0, odoo.http.root, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def setup(env, args, odoo):
    company = env.ref("base.main_company")
    countries = give_addresses(env)
    moved = spread_tied_due_dates(env) if args.spread_tied_due_dates else 0
    company.followup_handoff_min_days = 0
    env["followup.agency"].search([]).write({"active": False})
    agency = env["followup.agency"].create(
        {
            "name": "Debitura Sandbox (bench)",
            "code": "debitura",
            "company_id": company.id,
            "base_url": args.base_url,
            "api_key": args.api_key,
            "agency_user_email": TEAM_MEMBER,
            "is_test": True,
            "send_documents": args.documents == "yes",
        }
    )
    server = None
    warm_s = 0.0
    if args.print_delay is not None:
        env["ir.config_parameter"].set_param("report.print_delay", args.print_delay)
    if args.documents == "yes":
        if args.report_css:
            server = serve_http(odoo)
            report_url = f"http://127.0.0.1:{server.server_port}"
        else:
            # nothing listens on the discard port: wkhtmltopdf renders the
            # reports without their stylesheets, as in the addon's tests
            report_url = "http://127.0.0.1:9"
        env["ir.config_parameter"].set_param("report.url", report_url)
        env.cr.commit()
        # the first rendering builds the report's asset bundle (once per database
        # in production): not part of the hand-off
        seed = json.loads(env["ir.config_parameter"].get_param("bench.seed"))
        seed = env["account.move"].browse(seed["eur_move_id"])
        start = time.perf_counter()
        rendered = env["ir.actions.report"]._render_followup_documents(
            "account.account_invoices", seed.ids
        )
        warm_s = time.perf_counter() - start
        if not rendered or next(iter(rendered.values()))[1] != "pdf":
            raise RuntimeError("warm-up rendering produced no PDF")
    env.cr.commit()
    return (
        agency,
        server,
        {
            "countries": countries,
            "tied_due_dates_moved": moved,
            "warm_up_render_s": warm_s,
            "report_css": args.report_css,
            "print_delay_ms": int(
                env["ir.config_parameter"].get_param("report.print_delay", "1000")
            ),
        },
    )


# ----------------------------------------------------------------------
# timed parts
# ----------------------------------------------------------------------
def hand_off(env, args, preview_timer):
    """The bench customers' invoices, ``args.chunk`` debtors per wizard."""
    admin = env.ref("base.user_admin")
    uenv = env(user=admin.id, context={"allowed_company_ids": [admin.company_id.id]})
    moves = uenv["account.move"].search(
        [
            ("partner_id.ref", "=like", "BENCH%"),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
        ],
        order="partner_id, id",
    )
    debtors = sorted(set(moves.mapped("commercial_partner_id").ids))
    by_debtor = {}
    for move in moves:
        by_debtor.setdefault(move.commercial_partner_id.id, []).append(move.id)
    open_s = confirm_s = 0.0
    wizards = 0
    Wizard = uenv["followup.handoff.wizard"]
    for start in range(0, len(debtors), args.chunk):
        chunk = debtors[start : start + args.chunk]
        ids = [move_id for debtor in chunk for move_id in by_debtor[debtor]]
        t0 = time.perf_counter()
        action = Wizard._open_for(uenv["account.move"].browse(ids))
        wizard = Wizard.browse(action["res_id"])
        if wizard.preview_message:
            raise RuntimeError(f"preview failed: {wizard.preview_message}")
        t1 = time.perf_counter()
        wizard.action_confirm()
        env.cr.commit()
        t2 = time.perf_counter()
        open_s += t1 - t0
        confirm_s += t2 - t1
        wizards += 1
        env.invalidate_all()
    return {
        "debtors": len(debtors),
        "invoices_selected": len(moves),
        "wizards": wizards,
        "wizard_open_s": open_s,
        "wizard_confirm_s": confirm_s,
        "wizard_s": open_s + confirm_s,
        "preview_s": preview_timer.seconds,
        "preview_calls": preview_timer.calls,
    }


def send_outbox(env):
    """The scheduled action as Odoo's cron runner calls it: call, commit, again
    while requests remain due."""
    Request = env["followup.agency.request"]
    calls = 0
    start = time.perf_counter()
    remaining = 1
    while remaining:
        done, remaining = Request._cron_send_requests()
        env.cr.commit()
        calls += 1
        if not done and remaining:
            raise RuntimeError(f"outbox made no progress, {remaining} due")
        env.invalidate_all()
    return {"outbox_s": time.perf_counter() - start, "outbox_calls": calls}


def profiled(args, name, func, *func_args):
    if not args.profile:
        return func(*func_args)
    profiler = cProfile.Profile()
    result = profiler.runcall(func, *func_args)
    path = f"{args.profile}_{name}.pstats"
    profiler.dump_stats(path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(50)
    stats.sort_stats("tottime").print_stats(30)
    with open(path + ".txt", "w", encoding="utf-8") as handle:
        handle.write(out.getvalue())
    return result


# ----------------------------------------------------------------------
# what Odoo holds afterwards
# ----------------------------------------------------------------------
def counts(env, agency):
    cr = env.cr
    cr.execute(
        "SELECT state, count(*) FROM followup_agency_case WHERE agency_id = %s "
        "GROUP BY state",
        [agency.id],
    )
    case_states = dict(cr.fetchall())
    cr.execute(
        """SELECT count(*), count(*) FILTER (WHERE l.document_sent)
             FROM followup_agency_case_line l
             JOIN followup_agency_case c ON c.id = l.case_id
            WHERE c.agency_id = %s""",
        [agency.id],
    )
    lines, documents_sent = cr.fetchone()
    cr.execute(
        "SELECT kind, state, count(*) FROM followup_agency_request "
        "WHERE agency_id = %s GROUP BY kind, state",
        [agency.id],
    )
    requests = {f"{kind}/{state}": count for kind, state, count in cr.fetchall()}
    cr.execute(
        "SELECT last_error FROM followup_agency_request WHERE agency_id = %s "
        "AND state IN ('failed', 'retry') ORDER BY id LIMIT 5",
        [agency.id],
    )
    errors = [row[0] for row in cr.fetchall()]
    cr.execute(
        "SELECT c.creditor_reference, c.agency_case_id, count(l.id) "
        "FROM followup_agency_case c JOIN followup_agency_case_line l "
        "ON l.case_id = c.id WHERE c.agency_id = %s "
        "GROUP BY c.id ORDER BY c.id",
        [agency.id],
    )
    cases = [list(row) for row in cr.fetchall()]
    cr.execute("SELECT count(*) FROM account_move WHERE followup_at_agency")
    at_agency = cr.fetchone()[0]
    cr.execute(
        "SELECT paused, pause_reason FROM followup_agency WHERE id = %s", [agency.id]
    )
    paused, pause_reason = cr.fetchone()
    by_state = Counter()
    for key, count in requests.items():
        by_state[key.split("/")[1]] += count
    return {
        "cases": sum(case_states.values()),
        "case_states": case_states,
        "case_lines": lines,
        "documents_sent": documents_sent,
        "invoices_at_agency": at_agency,
        "requests": sum(requests.values()),
        "requests_by_kind_state": requests,
        "requests_failed": by_state["failed"],
        "requests_waiting": by_state["pending"] + by_state["retry"],
        "request_errors": errors,
        "agency_paused": bool(paused),
        "agency_pause_reason": pause_reason,
        "case_refs": cases,
    }


def mail_count(cr):
    cr.execute("SELECT count(*) FROM mail_mail")
    return cr.fetchone()[0]


def run(env, args, odoo):
    from odoo.addons.receivables_followup.services.debitura import client

    agency, server, prepared = setup(env, args, odoo)
    mails_before = mail_count(env.cr)
    # the agency's previews, timed apart from the rest of the wizard
    preview_timer = Timer()
    client.DebituraClient.preview_case = preview_timer.wrap(
        client.DebituraClient.preview_case
    )
    # the PDFs, timed apart from the rest of the outbox
    render_timer = Timer()
    Request = type(env["followup.agency.request"])
    Request._render_documents = render_timer.wrap(Request._render_documents)
    upload_timer = Timer()
    client.DebituraClient.upload_file = upload_timer.wrap(
        client.DebituraClient.upload_file
    )
    create_timer = Timer()
    client.DebituraClient.create_case = create_timer.wrap(
        client.DebituraClient.create_case
    )
    rss_before = rss_mb()
    handed = profiled(args, "wizard", hand_off, env, args, preview_timer)
    rss_wizard = rss_mb()
    sent = profiled(args, "outbox", send_outbox, env)
    result = {
        **prepared,
        **handed,
        **sent,
        "render_s": render_timer.seconds,
        "render_batches": render_timer.calls,
        "upload_http_s": upload_timer.seconds,
        "uploads": upload_timer.calls,
        "create_http_s": create_timer.seconds,
        "creates": create_timer.calls,
        "rss_before_mb": rss_before,
        "rss_wizard_mb": rss_wizard,
        "rss_peak_mb": rss_mb(),
        "children_rss_peak_mb": children_rss_mb(),
        "mails_queued": mail_count(env.cr) - mails_before,
        **counts(env, agency),
    }
    if server:
        server.shutdown()
    return result


def main():
    parser = worker_parser(__doc__)
    parser.add_argument("--base-url", required=True, help="the agency sandbox")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--documents", choices=["no", "yes"], required=True)
    parser.add_argument("--chunk", type=int, default=100, help="debtors per wizard")
    parser.add_argument("--profile", help="cProfile stats to <this>_{wizard,outbox}")
    parser.add_argument(
        "--keep-tied-due-dates",
        dest="spread_tied_due_dates",
        action="store_false",
        help="do not move apart a debtor's invoices due the same day (the wizard "
        "crashes on them: see spread_tied_due_dates)",
    )
    parser.add_argument(
        "--no-report-css",
        dest="report_css",
        action="store_false",
        help="point report.url at a closed port: PDFs without their stylesheets",
    )
    parser.add_argument(
        "--print-delay",
        type=int,
        help="set Odoo's report.print_delay (ms of javascript delay per "
        "wkhtmltopdf call, 1000 by default)",
    )
    args = parser.parse_args()
    run_in_odoo(args, lambda env, odoo: run(env, args, odoo))


if __name__ == "__main__":
    main()
