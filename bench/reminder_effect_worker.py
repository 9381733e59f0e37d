"""The Odoo side of the reminder effectiveness benchmark: one mode per process.

Run by ``bench_reminder_effect.py`` with the virtualenv's Python, never imported by
Odoo. It opens a database the driver filled with ``datagen.py``, then:

  remind  runs the scheduled follow-up until nothing remains (the engine writes
          the actions and their lines), spreads the actions' dates over the last
          365 days (a year of daily runs), and pays seven reminded invoices in
          ten in SQL: six in full, one by half, 0 to 60 days after its reminder
          (one receivable line per payment on a shared payment entry, and its
          partial reconciliation with the invoice's);
  read    times, as the administrator (a follow-up user, record rules applied),
          what the reports' views ask when they open, ``--repeat`` times each.
"""

import statistics
import sys
import time

from datagen import clone_statement
from followup_worker import run_in_odoo, worker_parser

#: a reminded invoice paid in full when ``line id % 10`` is below, by half when
#: equal, else left open
PAID_IN_FULL_BELOW = 6


def mode_remind(env, args):
    Run = env["followup.run"]
    start = time.perf_counter()
    while True:
        _done, remaining = Run._cron_run_followup()
        env.cr.commit()
        if not remaining:
            break
    run_s = time.perf_counter() - start
    cr = env.cr
    cr.execute(
        """
        UPDATE followup_history SET date = date - (id * 7919 % 365)
         WHERE state = 'done'
        """
    )
    company = env.company
    journal = env["account.journal"].search(
        [*env["account.journal"]._check_company_domain(company), ("type", "=", "bank")],
        limit=1,
    )
    payments = env["account.move"].create(
        {"move_type": "entry", "journal_id": journal.id, "ref": "Bench payments"}
    )
    env.flush_all()
    cr.execute(
        """
        CREATE TEMP TABLE bench_pay ON COMMIT DROP AS
        SELECT t.id AS term_id,
               nextval('account_move_line_id_seq')::int AS pay_line_id,
               h.date + (l.id * 31 %% 61)::int AS paid_on,
               CASE WHEN l.id %% 10 < %(full)s THEN 1.0 ELSE 0.5 END AS share
          FROM followup_history_line l
          JOIN followup_history h ON h.id = l.history_id AND h.state = 'done'
          JOIN account_move_line t
            ON t.move_id = l.move_id AND t.display_type = 'payment_term'
         WHERE l.id %% 10 <= %(full)s
        """,
        {"full": PAID_IN_FULL_BELOW},
    )
    paid = cr.rowcount
    cr.execute(
        clone_statement(
            cr,
            "account_move_line",
            "t",
            {
                "id": "b.pay_line_id",
                "move_id": "%(move)s",
                "move_name": "'/'",
                "name": "'Bench payment'",
                "date": "b.paid_on",
                "debit": "0",
                "credit": "round(t.balance * b.share, 2)",
                "balance": "-round(t.balance * b.share, 2)",
                "amount_currency": "-round(t.amount_currency * b.share, 2)",
                "amount_residual": "0",
                "amount_residual_currency": "0",
                "reconciled": "true",
                "date_maturity": "NULL",
                "create_date": "now() at time zone 'UTC'",
                "write_date": "now() at time zone 'UTC'",
            },
            "FROM bench_pay b JOIN account_move_line t ON t.id = b.term_id",
        ),
        {"move": payments.id},
    )
    cr.execute(
        """
        INSERT INTO account_partial_reconcile (
            debit_move_id, credit_move_id, debit_currency_id, credit_currency_id,
            company_id, max_date, amount, debit_amount_currency,
            credit_amount_currency, create_uid, create_date, write_uid, write_date)
        SELECT b.term_id, b.pay_line_id, t.currency_id, t.currency_id,
               t.company_id, b.paid_on, round(t.balance * b.share, 2),
               round(t.amount_currency * b.share, 2),
               round(t.amount_currency * b.share, 2),
               %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
          FROM bench_pay b JOIN account_move_line t ON t.id = b.term_id;
        UPDATE account_move_line t
           SET amount_residual = t.balance - round(t.balance * b.share, 2),
               amount_residual_currency =
                   t.amount_currency - round(t.amount_currency * b.share, 2),
               reconciled = (b.share = 1)
          FROM bench_pay b
         WHERE t.id = b.term_id;
        """,
        {"uid": env.uid},
    )
    env.cr.commit()
    cr.execute("SELECT count(*) FROM followup_history_line")
    return {"run_s": run_s, "lines": cr.fetchone()[0], "paid": paid}


def timed(repeat, function):
    """The median seconds of ``repeat`` calls of ``function`` and all of them."""
    seconds = []
    for _call in range(repeat):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return {"median_s": statistics.median(seconds), "runs_s": seconds}


def mode_read(env, args):
    user_env = env(user=env.ref("base.user_admin").id, su=False)
    Effect = user_env["followup.reminder.effect"]
    Level = user_env["followup.reminder.effect.level"]
    Month = user_env["followup.reminder.effect.month"]
    level_fields = {
        name: {"fields": {"display_name": {}}} if field.type == "many2one" else {}
        for name, field in Level._fields.items()
        if name not in ("id", "display_name")
    }

    def fresh(function):
        def call():
            user_env.invalidate_all()
            function()

        return call

    reads = {
        # what each view asks when it opens (a pivot sends one read_group per
        # grouping of its rows and columns, at the same time)
        "level_list": lambda: Level.web_search_read([], level_fields),
        "trend_graph": lambda: Month.read_group(
            [], ["share_30:avg"], ["month:month", "level_id"], lazy=False
        ),
        "payments_graph": lambda: Effect.read_group(
            [], ["amount_paid_30:sum"], ["date:month", "level_id"], lazy=False
        ),
        "payments_pivot_cells": lambda: Effect.read_group(
            [],
            ["amount_claimed:sum", "amount_paid_7:sum", "amount_paid_30:sum"],
            ["level_id", "date:month"],
            lazy=False,
        ),
        "level_summary": lambda: Effect._level_summary([]),
    }
    result = {name: timed(args.repeat, fresh(read)) for name, read in reads.items()}
    result["rows"] = Effect.search_count([])
    result["levels"] = [
        {
            "level": level.display_name,
            **{
                key: round(value, 1) if isinstance(value, float) else value
                for key, value in summary.items()
            },
        }
        for level, summary in Effect._level_summary([]).items()
    ]
    return result


MODES = {"remind": mode_remind, "read": mode_read}


def main():
    parser = worker_parser(__doc__, MODES)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run_in_odoo(args, lambda env, _odoo: MODES[args.mode](env, args))


if __name__ == "__main__":
    sys.exit(main())
