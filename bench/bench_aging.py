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

from benchlib import (  # noqa: E402
    MODULE,
    add_common_options,
    generated_db,
    prepare_odoo,
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
    odoo, template, addon_note = prepare_odoo(args, __file__)
    db = f"bench_aging_{args.invoices}"
    with generated_db(
        args, template, db, args.invoices, max(args.invoices // 20, 1), "fresh"
    ):
        result = odoo.run_worker(
            "aging_worker.py",
            db,
            "--repeat",
            str(args.repeat),
            logname=f"{db}-aging",
        )
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
