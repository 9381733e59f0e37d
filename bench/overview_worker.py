"""The Odoo side of the overview benchmark: one process.

Run by ``bench_overview.py`` with the virtualenv's Python, never imported by Odoo.

1. *setup, not timed*: the scheduled follow-up runs until nothing remains, so
   that the ledger has a follow-up history (levels, reminders) to report on;
2. *timed*: the follow-up overview (``followup.overview.get_overview``, for
   "everyone" as a follow-up manager), then each follow-up report as its view
   opens it (the grouped read of its list, pivot or graph), each twice: cold
   (caches cleared) and warm.
"""

import sys
import time

from followup_worker import rss_mb, run_cron_until_done, run_in_odoo, worker_parser

#: (label, model, groupby, aggregates) of each report as its default view
#: reads it; a report whose model is not installed is left out
REPORTS = (
    (
        "aged receivables (pivot by customer)",
        "followup.receivable.aging",
        ["partner_id"],
        ["amount_residual:sum"],
    ),
    (
        "reminder effectiveness (by level)",
        "followup.reminder.effect.level",
        ["level_id"],
        ["amount_claimed:sum"],
    ),
    (
        "reminder effectiveness trends (by month and level)",
        "followup.reminder.effect.month",
        ["month:month", "level_id"],
        ["amount_claimed:sum"],
    ),
    (
        "reminder payments (by month and level)",
        "followup.reminder.effect",
        ["date:month", "level_id"],
        ["amount_claimed:sum"],
    ),
    (
        "dispute aging (by age bucket)",
        "followup.dispute.aging",
        ["age_bucket"],
        ["amount_disputed:sum"],
    ),
    (
        "overdue invoices (by follow-up level)",
        "account.move",
        ["followup_level_id"],
        ["amount_residual_signed:sum"],
    ),
)


def main():
    args = worker_parser(__doc__).parse_args()
    run_in_odoo(args, measure)


def measure(env, odoo):
    run_s = time.perf_counter()
    run_cron_until_done(env, None)
    env.cr.commit()
    run_s = time.perf_counter() - run_s
    manager = env.ref("base.user_admin")
    manager.write(
        {"groups_id": [(4, env.ref("receivables_followup.group_followup_manager").id)]}
    )
    env.cr.commit()
    user_env = env(user=manager.id)
    timings = {
        "overview": timed_twice(
            env, lambda: user_env["followup.overview"].get_overview("everyone")
        )
    }
    for label, model, groupby, aggregates in REPORTS:
        if model not in env:
            continue
        Model = user_env[model]
        domain = (
            [
                ("move_type", "=", "out_invoice"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
            if model == "account.move"
            else []
        )
        timings[label] = timed_twice(
            env,
            lambda Model=Model, domain=domain, groupby=groupby, aggregates=aggregates: (
                Model._read_group(domain, groupby, aggregates)
            ),
        )
    counts = {
        "invoices": env["account.move"].search_count(
            [("move_type", "=", "out_invoice")]
        ),
        "actions": env["followup.history"].search_count([]),
    }
    return {"run_s": run_s, "timings": timings, "counts": counts, "rss_mb": rss_mb()}


def timed_twice(env, func):
    """(cold, warm) seconds of ``func``: first with the ORM caches cleared."""
    env.invalidate_all()
    env.registry.clear_cache()
    start = time.perf_counter()
    func()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    func()
    warm = time.perf_counter() - start
    return [cold, warm]


if __name__ == "__main__":
    sys.exit(main())
