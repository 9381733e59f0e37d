#!/usr/bin/env python3
"""Time the follow-up letters of a run, with Odoo serving their stylesheets.

A throwaway database is copied from the bench template of ``bench/run`` and
filled in SQL by ``datagen.py`` (``--customers`` customers, 3 open invoices
each, already escalated so that one run reaches every level). A separate Odoo
process (``letters_worker.py``) gives the customers a postal address, makes
every level of the default policy print a letter (reviews off), serves Odoo's
HTTP from a thread (``report.url``) so that wkhtmltopdf loads the letters'
stylesheets as in production, then runs the scheduled follow-up until nothing
remains, timing the letters' rendering apart. It prints letters per second of
rendering and of the whole run, and checks that every letter is a PDF attached
to its customer.

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

TARGET_LETTERS_PER_SECOND = 10.0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1000)
    add_common_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    odoo, template, addon_note = prepare_odoo(args, __file__)
    db = f"bench_letters_{args.customers}"
    with generated_db(
        args, template, db, args.customers * 3, args.customers, "escalated"
    ):
        result = odoo.run_worker("letters_worker.py", db, logname=f"{db}-letters")
    letters = result["letters"]
    render_rate = letters / result["render_s"] if result["render_s"] else 0.0
    print(f"# {MODULE} {addon_note}; {args.customers} customers x 3 invoices")
    print(
        f"letters: {letters} ({result['pdf_letters']} PDFs attached to their "
        f"customer) in {result['render_calls']} batches rendered in "
        f"{result['render_s']:.1f} s: {render_rate:.1f} letters/s; whole run "
        f"{result['run_s']:.1f} s ({letters / result['run_s']:.1f} letters/s, "
        f"emails and notes included); warm-up {result['warm_up_s']:.1f} s"
    )
    print(
        f"peak RSS {result['rss_peak_mb']:.0f} MB (registry loaded: "
        f"{result['rss_before_mb']:.0f} MB); wkhtmltopdf {result['wk_rss_mb']:.0f} MB"
    )
    ok = letters and result["pdf_letters"] == letters
    met = "met" if render_rate >= TARGET_LETTERS_PER_SECOND else "NOT met"
    print(
        f"# target >= {TARGET_LETTERS_PER_SECOND:.0f} letters/s: "
        f"{render_rate:.1f} letters/s, {met}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
