#!/usr/bin/env python3
"""Time the follow-up overview and reports on a large ledger.

A throwaway database is copied from the bench template of ``bench/run`` and
filled in SQL by ``datagen.py`` (``--invoices`` open invoices over N/20
customers, already escalated). A separate Odoo process
(``overview_worker.py``) runs the scheduled follow-up until nothing remains
(so that levels, reminders and their history exist), then times the overview
and each report's grouped read, cold and warm.

Figures only: nothing here asserts a time.
"""

import argparse
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from benchlib import (  # noqa: E402
    MODULE,
    add_common_options,
    generated_db,
    prepare_odoo,
)

TARGET_SECONDS = 1.0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100_000)
    add_common_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    odoo, template, addon_note = prepare_odoo(args, __file__)
    db = f"bench_overview_{args.invoices}"
    with generated_db(
        args, template, db, args.invoices, max(args.invoices // 20, 1), "escalated"
    ):
        result = odoo.run_worker("overview_worker.py", db, logname=f"{db}-overview")
    counts = result["counts"]
    print(
        f"# {MODULE} {addon_note}; {counts['invoices']} invoices, "
        f"{counts['actions']} follow-up actions (run {result['run_s']:.1f} s, "
        "not timed)"
    )
    print(f"{'opened':<52} {'cold s':>7} {'warm s':>7}")
    worst = 0.0
    for label, (cold, warm) in result["timings"].items():
        print(f"{label:<52} {cold:7.3f} {warm:7.3f}")
        worst = max(worst, cold)
    met = "met" if worst < TARGET_SECONDS else "NOT met"
    print(
        f"# target < {TARGET_SECONDS:.0f} s each on 2 cores: slowest {worst:.3f} s "
        f"(cold), {met}; peak RSS {result['rss_mb']:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
