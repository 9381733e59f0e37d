"""The Odoo side of the follow-up benchmark: one mode per process.

Run by ``bench_followup_run.py`` with the virtualenv's Python, never imported by
Odoo. Each mode opens the registry of one database, does its work and prints one
line ``BENCH_RESULT {json}`` on stdout for the driver.

Modes:
  seed        prepare the bench template: EUR company, USD rate, a product, a seed
              customer and one posted invoice per currency (the rows the data
              generator clones in SQL)
  ours        time receivables_followup's run as the cron runner does it
  oca-setup   configure account_credit_control with levels equivalent to ours
  oca         time account_credit_control's run (lines, then emails)
"""

import argparse
import cProfile
import io
import json
import pstats
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta

SEED_PARAM = "bench.seed"
#: the line a worker prints its figures on, as JSON, for its driver
RESULT_PREFIX = "BENCH_RESULT "


def worker_parser(description, modes=None):
    """The arguments every worker takes: its mode when it has several, the
    database, where Odoo, the addons and the data dir are, the log level."""
    parser = argparse.ArgumentParser(description=description)
    if modes:
        parser.add_argument("mode", choices=sorted(modes))
    for option in ("--db", "--odoo-path", "--addons-path", "--data-dir"):
        parser.add_argument(option, required=True)
    parser.add_argument("--log-level", default="warn")
    return parser


def run_in_odoo(args, work):
    """Load Odoo, call ``work(env, odoo)`` as the superuser in one cursor of
    ``args.db``, commit, and print the figures it returns for the driver."""
    odoo = load_odoo(args)
    from odoo.modules.registry import Registry

    with Registry(args.db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        result = work(env, odoo)
        cr.commit()
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)


def rss_mb():
    """Peak resident set size of this process so far, in MB (Linux: KB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_odoo(args):
    sys.path.insert(0, args.odoo_path)
    import odoo
    from odoo.tools import config

    config.parse_config(
        [
            f"--database={args.db}",
            f"--addons-path={args.addons_path}",
            f"--data-dir={args.data_dir}",
            f"--log-level={args.log_level}",
            "--no-http",
        ]
    )
    return odoo


def table_counts(cr):
    tables = {
        "history": "followup_history",
        "mail_mail": "mail_mail",
        "mail_message": "mail_message",
        "activity": "mail_activity",
    }
    counts = {}
    for key, table in tables.items():
        cr.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
        counts[key] = cr.fetchone()[0]
    return counts


def history_states(cr):
    cr.execute("SELECT state, count(*) FROM followup_history GROUP BY state")
    return dict(cr.fetchall())


def delta(after, before):
    return {key: after[key] - before.get(key, 0) for key in after}


def run_cron_until_done(env, batch_size):
    """Call the scheduled action and commit until nothing remains, like the cron
    runner (which stops after 10 calls and is rescheduled at once: same work).

    :returns: (seconds of the first call, seconds of the other calls, calls, peak
        RSS after the first call)
    """
    Run = env["followup.run"]
    first = rest = 0.0
    rss_first = None
    calls = 0
    remaining = 1
    while remaining:
        start = time.perf_counter()
        done, remaining = Run._cron_run_followup(batch_size=batch_size)
        env.cr.commit()
        elapsed = time.perf_counter() - start
        if calls == 0:
            first = elapsed
            rss_first = rss_mb()
        else:
            rest += elapsed
        calls += 1
        if not done and remaining:
            raise RuntimeError(f"no progress with {remaining} actions remaining")
    return first, rest, calls, rss_first


def profiled(args, func, *func_args):
    """Call ``func``; under --profile, with cProfile, dumping the stats."""
    if not args.profile:
        return func(*func_args)
    profiler = cProfile.Profile()
    result = profiler.runcall(func, *func_args)
    profiler.dump_stats(args.profile)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    with open(args.profile + ".txt", "w", encoding="utf-8") as handle:
        handle.write(out.getvalue())
    return result


def mode_ours(env, args):
    cr = env.cr
    before = table_counts(cr)
    cr.execute("SELECT count(*) FROM account_move WHERE followup_status IS NOT NULL")
    tracked = cr.fetchone()[0]
    rss_before = rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    first, rest, calls, rss_plan = profiled(
        args, run_cron_until_done, env, args.batch_size or None
    )
    traced_peak = None
    if args.tracemalloc:
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    rss_after = rss_mb()
    after = table_counts(cr)
    states = history_states(cr)
    start = time.perf_counter()
    calls2 = run_cron_until_done(env, args.batch_size or None)[2]
    second_seconds = time.perf_counter() - start
    second = delta(table_counts(cr), after)
    return {
        "tracked_invoices": tracked,
        "plan_s": first,
        "perform_s": rest,
        "total_s": first + rest,
        "calls": calls,
        "rss_before_mb": rss_before,
        "rss_plan_mb": rss_plan,
        "rss_peak_mb": rss_after,
        "tracemalloc_peak_mb": traced_peak,
        "created": delta(after, before),
        "history_states": states,
        "second_run_s": second_seconds,
        "second_run_calls": calls2,
        "second_run_created": second,
    }


def mode_seed(env, args):
    """Build the rows that the SQL generator clones: see the module docstring."""
    from odoo import Command

    company = env.ref("base.main_company")
    eur = env.ref("base.EUR")
    usd = env.ref("base.USD")
    eur.active = True
    usd.active = True
    if company.currency_id != eur:
        company.currency_id = eur
    env["res.currency.rate"].search([]).unlink()
    env["res.currency.rate"].create(
        {
            "currency_id": usd.id,
            "rate": 1.08,
            "name": "2000-01-01",
            "company_id": company.id,
        }
    )
    company.write({"email": "receivables@bench.example.com", "phone": "+33100000000"})
    product = env["product.product"].create(
        {"name": "Bench service", "list_price": 100.0, "taxes_id": [Command.clear()]}
    )
    customer = env["res.partner"].create(
        {
            "name": "Bench Seed Customer",
            "is_company": True,
            "email": "seed@bench.example.com",
            "lang": "en_US",
        }
    )
    today = date.today()
    moves = env["account.move"]
    for currency in (eur, usd):
        moves |= env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": customer.id,
                "currency_id": currency.id,
                "invoice_date": today - timedelta(days=40),
                "invoice_payment_term_id": False,
                "invoice_date_due": today + timedelta(days=3650),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 1,
                            "price_unit": 100.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
    moves.action_post()
    levels = env["followup.policy"]._default_for_company(company).level_ids
    # The bench times the automatic channels (emails, activities): formal notices
    # waiting for a person would time nothing, and letters are the PDF engine's
    # own benchmark. Each customer gets one message at its highest level.
    levels.write({"manual_review": False, "print_letter": False})
    seed = {
        "company_id": company.id,
        "eur_move_id": moves[0].id,
        "usd_move_id": moves[1].id,
        "partner_id": customer.id,
        "receivable_account_id": moves[0]
        .line_ids.filtered(lambda line: line.display_type == "payment_term")
        .account_id.id,
        "levels": [
            [level.id, level.delay]
            for level in levels.sorted(lambda lvl: (lvl.delay, lvl.sequence, lvl.id))
        ],
    }
    env["ir.config_parameter"].set_param(SEED_PARAM, json.dumps(seed))
    return seed


# ----------------------------------------------------------------------
# account_credit_control (OCA)
# ----------------------------------------------------------------------
#: channel of each OCA level, by rank: ours emails at the first two levels and
#: leaves the two last ones to a person's review
OCA_CHANNELS = ["email", "email", "letter", "phone"]


def mode_oca_setup(env, args):
    from odoo import Command

    seed = json.loads(env["ir.config_parameter"].get_param(SEED_PARAM))
    company = env["res.company"].browse(seed["company_id"])
    template = env.ref("account_credit_control.email_template_credit_control_base")
    if not args.oca_keep_pdf:
        # Our reminders carry no PDF: compare like with like (a wkhtmltopdf call
        # per email would dominate OCA's time).
        template.report_template_ids = [Command.clear()]
    policy = env["credit.control.policy"].create(
        {
            "name": "Bench policy",
            "company_id": company.id,
            "account_ids": [Command.set([seed["receivable_account_id"]])],
            "level_ids": [
                Command.create(
                    {
                        "name": f"Level {rank}",
                        "level": rank,
                        "computation_mode": "net_days",
                        "delay_days": delay,
                        "email_template_id": template.id,
                        "channel": OCA_CHANNELS[min(rank - 1, 3)],
                        "custom_text": "Please pay the invoices below.",
                        "custom_mail_text": "<p>Please pay the invoices below.</p>",
                        "mail_show_invoice_detail": True,
                    }
                )
                for rank, (_level_id, delay) in enumerate(seed["levels"], start=1)
            ],
        }
    )
    company.credit_policy_id = policy
    env.flush_all()
    # The invoices already at one of our levels were reminded at the matching OCA
    # level: give them that level's sent credit line, so both engines escalate the
    # same invoices to the same level today.
    oca_levels = policy.level_ids.sorted("level")
    mapping = {
        our_id: oca.id
        for (our_id, _delay), oca in zip(seed["levels"], oca_levels, strict=True)
    }
    env.cr.execute(
        """
        INSERT INTO credit_control_line (
            date, date_due, date_sent, date_entry, state, channel, invoice_id,
            partner_id, commercial_partner_id, amount_due, balance_due, move_line_id,
            account_id, currency_id, company_id, policy_level_id, policy_id, level,
            manually_overridden, manual_followup, create_uid, write_uid, create_date,
            write_date)
        SELECT m.followup_last_date, l.date_maturity, m.followup_last_date, l.date,
               'sent', 'email', m.id, l.partner_id, m.commercial_partner_id,
               l.amount_currency, l.amount_residual, l.id, l.account_id,
               l.currency_id, l.company_id, lvl.id, lvl.policy_id, lvl.level,
               false, false, 1, 1, now(), now()
          FROM account_move m
          JOIN account_move_line l
            ON l.move_id = m.id AND l.display_type = 'payment_term'
          JOIN (SELECT unnest(%s::int[]) AS ours, unnest(%s::int[]) AS oca) map
            ON map.ours = m.followup_level_id
          JOIN credit_control_policy_level lvl ON lvl.id = map.oca
        """,
        [list(mapping), list(mapping.values())],
    )
    seeded = env.cr.rowcount
    env.cr.execute("ANALYZE credit_control_line")
    return {"policy_id": policy.id, "seeded_lines": seeded}


def oca_counts(cr):
    counts = {}
    for key, table in (
        ("credit_lines", "credit_control_line"),
        ("communications", "credit_control_communication"),
        ("mail_mail", "mail_mail"),
        ("mail_message", "mail_message"),
    ):
        cr.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
        counts[key] = cr.fetchone()[0]
    return counts


def oca_run(env, policy_id):
    """Generate today's credit lines, then email the first two levels' lines (the
    levels ours performs; the others wait for a person in both modules).

    :returns: (seconds generating lines, seconds emailing)
    """
    today = date.today()
    company = env["credit.control.policy"].browse(policy_id).company_id
    start = time.perf_counter()
    run = env["credit.control.run"].create(
        {"date": today, "policy_ids": [(6, 0, [policy_id])], "company_id": company.id}
    )
    run.generate_credit_lines()
    env.cr.commit()
    generated = time.perf_counter() - start
    start = time.perf_counter()
    lines = run.line_ids.filtered(
        lambda line: line.level <= 2 and line.channel == "email"
    )
    lines.write({"state": "to_be_sent"})
    run.run_channel_action()
    env.cr.commit()
    return generated, time.perf_counter() - start


def mode_oca(env, args):
    cr = env.cr
    policy_id = (
        env["credit.control.policy"].search([("name", "=", "Bench policy")], limit=1).id
    )
    before = oca_counts(cr)
    rss_before = rss_mb()
    generated, emailed = profiled(args, oca_run, env, policy_id)
    rss_after = rss_mb()
    after = oca_counts(cr)
    start = time.perf_counter()
    oca_run(env, policy_id)
    second_seconds = time.perf_counter() - start
    return {
        "plan_s": generated,
        "perform_s": emailed,
        "total_s": generated + emailed,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_after,
        "created": delta(after, before),
        "second_run_s": second_seconds,
        "second_run_created": delta(oca_counts(cr), after),
    }


MODES = {
    "seed": mode_seed,
    "ours": mode_ours,
    "oca-setup": mode_oca_setup,
    "oca": mode_oca,
}


def main():
    parser = worker_parser(__doc__, MODES)
    parser.add_argument("--batch-size", type=int, default=0)
    parser.add_argument("--profile", help="write cProfile stats to this file")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--oca-keep-pdf", action="store_true")
    args = parser.parse_args()
    run_in_odoo(args, lambda env, _odoo: MODES[args.mode](env, args))


if __name__ == "__main__":
    main()
