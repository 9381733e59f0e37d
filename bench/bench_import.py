#!/usr/bin/env python3
"""Time the import of an agency's 10,000-row status and payment report.

A throwaway database is copied from the bench template of ``bench/run`` (the base
template plus receivables_followup and its seed invoices) and filled in SQL by
``datagen.py`` (``--cases`` customers, ``--invoices-per-case`` open invoices
each). A separate Odoo process (``import_worker.py``) makes one case per
customer directly (sudo, no wizard), writes a CSV report of ``--rows`` rows
(status changes and payments, ``--payment-share`` of them payments, booked in
the accounts), imports it as the wizard does, then imports it again (every row
a duplicate), and prints rows per second, seconds and the peak RSS.

Figures only: nothing here asserts a time. One Odoo process runs at a time.
"""

import argparse
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from benchlib import (  # noqa: E402
    MODULE,
    WORK_DIR,
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

TARGET_SECONDS = 30.0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--invoices-per-case", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument(
        "--payment-share",
        type=float,
        default=0.2,
        help="share of the rows that are payments, booked (default 0.2)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the first import (stats in /tmp/rf_bench/import.prof)",
    )
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
    db = f"bench_import_{args.cases}"
    copy_db(template, db)
    try:
        generate(db, args.cases * args.invoices_per_case, args.cases, "fresh")
        checkpoint(db)
        result = odoo.run_worker(
            "import_worker.py",
            db,
            "--cases",
            str(args.cases),
            "--rows",
            str(args.rows),
            "--payment-share",
            str(args.payment_share),
            *(["--profile", str(WORK_DIR / "import.prof")] if args.profile else []),
            logname=f"{db}-import",
        )
    finally:
        if not args.keep_db:
            drop_db(db)
    seconds = result["first_s"]
    print(f"# {MODULE} {addon_note}; cases made directly with sudo (no wizard)")
    print(
        f"report: {result['rows']} rows ({result['status']} status, "
        f"{result['payment']} payments booked), {result['bytes'] / 1024:.0f} KiB, "
        f"over {result['cases']} cases"
    )
    print(
        f"import: {seconds:.1f} s, {result['rows'] / seconds:.0f} rows/s "
        f"({result['first_counts']})"
    )
    print(
        f"again:  {result['again_s']:.1f} s, "
        f"{result['rows'] / result['again_s']:.0f} rows/s ({result['again_counts']})"
    )
    print(
        f"peak RSS {result['rss_peak_mb']:.0f} MB (registry loaded: "
        f"{result['rss_before_mb']:.0f} MB); setup {result['setup_s']:.1f} s"
    )
    met = "met" if seconds <= TARGET_SECONDS else "NOT met"
    print(f"# target: the whole file in <= {TARGET_SECONDS:.0f} s: {met}")


if __name__ == "__main__":
    main()
