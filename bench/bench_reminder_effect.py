#!/usr/bin/env python3
"""Time the reminder effectiveness reports as they open, on 100,000 invoices.

A throwaway database is copied from the bench template of ``bench/run`` and
filled in SQL by ``datagen.py`` (``--invoices`` open invoices over N/20
customers, already escalated so that one run reaches every level). A separate
Odoo process (``reminder_effect_worker.py remind``) runs the scheduled follow-up
until nothing remains, spreads the reminders over the last year and pays seven
in ten of the reminded invoices in SQL, 0 to 60 days after their reminder; after a
VACUUM ANALYZE and a checkpoint, another (``read``) times what the reports'
views ask when they open, as a follow-up user: the per-level list, the monthly
trend graph, the reminded invoices' graph and pivot, and ``_level_summary``.

Figures only: nothing here asserts a time. One Odoo process runs at a time.
"""

import argparse
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from benchlib import (  # noqa: E402
    MODULE,
    add_common_options,
    checkpoint,
    generated_db,
    prepare_odoo,
    psql,
)

TARGET_SECONDS = 1.0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed calls of each read (median)"
    )
    add_common_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    odoo, template, addon_note = prepare_odoo(args, __file__)
    db = f"bench_effect_{args.invoices}"
    with generated_db(
        args, template, db, args.invoices, max(args.invoices // 20, 1), "escalated"
    ):
        made = odoo.run_worker(
            "reminder_effect_worker.py", db, mode="remind", logname=f"{db}-remind"
        )
        for table in (
            "followup_history",
            "followup_history_line",
            "account_move_line",
            "account_partial_reconcile",
        ):
            psql(f"VACUUM ANALYZE {table}", db=db)
        checkpoint(db)
        result = odoo.run_worker(
            "reminder_effect_worker.py",
            db,
            "--repeat",
            str(args.repeat),
            mode="read",
            logname=f"{db}-read",
        )
    print(f"# {MODULE} {addon_note}; {args.invoices} invoices")
    print(
        f"reminders: {made['lines']} reminded invoices in {made['run_s']:.1f} s of "
        f"follow-up run; {made['paid']} paid after their reminder"
    )
    slowest = 0.0
    for name, figures in result.items():
        if not isinstance(figures, dict) or "median_s" not in figures:
            continue
        runs = ", ".join(f"{seconds:.2f}" for seconds in figures["runs_s"])
        print(f"{name:>22}: {figures['median_s']:.2f} s ({runs})")
        slowest = max(slowest, figures["median_s"])
    for level in result["levels"]:
        print(
            f"{level['level']}: {level['reminder_count']} reminded, "
            f"{level['share_7']} % paid within 7 days, {level['share_30']} % within "
            f"30, median {level['median_days']} days"
        )
    met = "met" if slowest <= TARGET_SECONDS else "NOT met"
    print(f"# target: each view opens in <= {TARGET_SECONDS:.0f} s: {met}")


if __name__ == "__main__":
    main()
