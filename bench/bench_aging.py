#!/usr/bin/env python3
"""Time the Aged Receivables report on N open invoices.

A throwaway database is copied from the bench template of ``bench/run`` and
filled in SQL by ``datagen.py`` (N open posted invoices due 1 to 120 days ago,
20 % in USD, over N/20 customers). A separate Odoo process
(``aging_worker.py``) then times, as a follow-up user, what opening the report
asks of the server: the pivot (grand total and rows by customer), the list
grouped by customer, and the PDF's values and HTML.

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

#: the issue's target for opening the report
TARGET_OPEN_S = 1.0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
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
    db = f"bench_aging_{args.invoices}"
    copy_db(template, db)
    try:
        generate(db, args.invoices, max(args.invoices // 20, 1), "fresh")
        checkpoint(db)
        result = odoo.run_worker(
            "aging_worker.py",
            db,
            "--repeat",
            str(args.repeat),
            logname=f"{db}-aging",
        )
    finally:
        if not args.keep_db:
            drop_db(db)
    print(f"# {MODULE} {addon_note}; {args.invoices} open invoices")
    print(f"rows in the view: {result['rows']}, customers: {result['customers']}")
    for step in ("pivot", "list", "report_values", "report_html"):
        print(f"{step}: {result[f'{step}_s']:.3f} s (median of {args.repeat})")
    print("plan of the rows by customer:\n" + result["plan"])
    opening = max(result["pivot_s"], result["list_s"])
    met = "met" if opening < TARGET_OPEN_S else "NOT met"
    print(f"# target: open in < {TARGET_OPEN_S:.0f} s: {opening:.3f} s, {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
