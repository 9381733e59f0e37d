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

from bench_followup_run import (  # noqa: E402
    MODULE,
    Odoo,
    add_common_options,
    addon_source,
    checkpoint,
    copy_db,
    drop_db,
    ensure_base_template,
    ensure_bench_template,
    find_odoo,
    generate,
    run_in_venv,
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
    run_in_venv(args.python, __file__)
    odoo_path = find_odoo(args.odoo_path, args.python)
    addon_root, addon_note = addon_source(args.addon_ref)
    odoo = Odoo(args.python, odoo_path, addon_root)
    base = ensure_base_template(odoo, args.base_template)
    template = ensure_bench_template(odoo, base, keep=True)
    db = f"bench_overview_{args.invoices}"
    copy_db(template, db)
    try:
        generate(db, args.invoices, max(args.invoices // 20, 1), "escalated")
        checkpoint(db)
        result = odoo.run_worker("overview_worker.py", db, logname=f"{db}-overview")
    finally:
        if not args.keep_db:
            drop_db(db)
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
