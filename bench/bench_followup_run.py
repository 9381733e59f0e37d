#!/usr/bin/env python3
"""Time receivables_followup's daily run on N open overdue invoices over M customers.

For each N: a throwaway database (``bench_rf_<N>``) is copied from a bench template
(the base template plus receivables_followup without demo data and two seed
invoices), filled in SQL (see ``datagen.py``), then a separate Odoo process calls
``followup.run._cron_run_followup()`` and commits until nothing remains, as Odoo's
cron runner does, and reports wall time (planning, performing), peak RSS and what
it created; then runs again the same day (it must create nothing).

With OCA's account_credit_control 18.0 (``--with-oca``, or automatically when the
``odoo-addon-account-credit-control`` wheel is installed in the virtualenv), a copy
of the same data gets that module, a policy with equivalent levels, and its run
(credit lines, then emails of the first two levels) is timed the same way.

Figures only: nothing here asserts a time. One Odoo process runs at a time.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from benchlib import (
    BENCH_DIR,
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
    fmt,
    generate,
    log,
    run_in_venv,
)

OCA_DIR = Path(os.environ.get("RF_BENCH_OCA_DIR", "/tmp/rf_bench_oca"))
OCA_DIST = "odoo-addon-account-credit-control"
OCA_MODULE = "account_credit_control"
TARGETS = "targets: 100k invoices <= 60 s; memory flat in N; >= 5x faster than OCA"


# ----------------------------------------------------------------------
# OCA account_credit_control
# ----------------------------------------------------------------------
def pip(python, *args):
    return subprocess.run(
        [python, "-m", "pip", *args, "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )


def installed_oca(python):
    done = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m; print(m.distribution("
            f"'{OCA_DIST}').locate_file('odoo/addons/{OCA_MODULE}'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    path = done.stdout.strip()
    return path if done.returncode == 0 and Path(path).is_dir() else None


def download_oca_wheel(python):
    versions = pip(python, "index", "versions", OCA_DIST).stdout
    match = re.search(r"Available versions: (.*)", versions)
    if not match:
        raise RuntimeError(f"pip index versions {OCA_DIST} found nothing")
    ours = [
        v.strip() for v in match.group(1).split(",") if v.strip().startswith("18.0.")
    ]
    if not ours:
        raise RuntimeError(f"no 18.0 release of {OCA_DIST} on the index")
    version = max(ours, key=lambda v: tuple(int(part) for part in v.split(".")))
    target = OCA_DIR / "dl"
    target.mkdir(parents=True, exist_ok=True)
    wheels = list(target.glob(f"*{version}-py3-none-any.whl"))
    if not wheels:
        log(f"downloading {OCA_DIST}=={version}")
        done = pip(
            python, "download", "--no-deps", "-d", str(target), f"{OCA_DIST}=={version}"
        )
        wheels = list(target.glob(f"*{version}-py3-none-any.whl"))
        if not wheels:
            raise RuntimeError(f"pip download failed: {done.stderr[-1500:]}")
    return wheels[0]


def unpack_oca(spec, python):
    """Put account_credit_control alone in OCA_DIR/addons; return (dir, note)."""
    addons = OCA_DIR / "addons"
    shutil.rmtree(addons, ignore_errors=True)
    addons.mkdir(parents=True)
    path = Path(spec) if spec not in ("pypi", "auto") else None
    if spec == "auto":
        source = installed_oca(python)
    elif path and path.suffix == ".whl" or spec == "pypi":
        wheel = path if path and path.suffix == ".whl" else download_oca_wheel(python)
        unpacked = OCA_DIR / "unpacked"
        shutil.rmtree(unpacked, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked)
        check_wheel_requirements(unpacked)
        source = unpacked / "odoo" / "addons" / OCA_MODULE
        spec = wheel.name
    else:
        source = next(
            (
                cand
                for cand in (
                    path,
                    path / OCA_MODULE,
                    path / "odoo" / "addons" / OCA_MODULE,
                )
                if (cand / "__manifest__.py").is_file()
            ),
            None,
        )
    if not source or not (Path(source) / "__manifest__.py").is_file():
        raise RuntimeError(f"no {OCA_MODULE} module found in {spec}")
    shutil.copytree(source, addons / OCA_MODULE)
    manifest = (addons / OCA_MODULE / "__manifest__.py").read_text()
    version = re.search(r'"version":\s*"([^"]+)"', manifest).group(1)
    if not version.startswith("18.0."):
        raise RuntimeError(f"{OCA_MODULE} {version} is not an 18.0 release")
    return addons, f"{OCA_MODULE} {version} ({spec})"


def check_wheel_requirements(unpacked):
    """The wheel must need nothing beyond Odoo 18 and its core addons."""
    for metadata in unpacked.glob("*.dist-info/METADATA"):
        for line in metadata.read_text().splitlines():
            if line.startswith("Requires-Dist:"):
                requirement = line.split(":", 1)[1].strip()
                if not requirement.startswith("odoo=="):
                    raise RuntimeError(f"unhandled requirement {requirement!r}")


# ----------------------------------------------------------------------
# One N
# ----------------------------------------------------------------------
def bench_one(args, odoo, template, invoices, oca_addons):
    """Time our run (``--repeat`` times, each on a fresh copy of the same data) and
    OCA's; return the report row, with the median run as ``ours``."""
    customers = args.customers or max(invoices // 20, 1)
    data_db = f"bench_rf_{invoices}_data"
    db = f"bench_rf_{invoices}"
    oca_db = f"bench_oca_{invoices}"
    row = {"n": invoices, "m": customers, "runs": []}
    copy_db(template, data_db)
    try:
        row["data"] = generate(data_db, invoices, customers, args.scenario)
        options = ["--batch-size", str(args.batch_size or 0)]
        if args.tracemalloc:
            options.append("--tracemalloc")
        if args.profile:
            options += ["--profile", str(WORK_DIR / f"profile_ours_{invoices}.pstats")]
        for attempt in range(args.repeat):
            copy_db(data_db, db)
            checkpoint(db)
            log(f"timing receivables_followup on {db} ({attempt + 1}/{args.repeat})")
            row["runs"].append(odoo.worker("ours", db, *options))
            if attempt + 1 < args.repeat or not args.keep_db:
                drop_db(db)
        by_time = sorted(row["runs"], key=lambda run: run["total_s"])
        row["ours"] = by_time[len(by_time) // 2]
        if oca_addons:
            copy_db(data_db, oca_db)
            checkpoint(oca_db)
            row["oca"] = bench_oca(args, odoo, oca_addons, oca_db, invoices)
    finally:
        if not args.keep_db:
            drop_db(db)
            drop_db(oca_db)
            drop_db(data_db)
    return row


def bench_oca(args, odoo, oca_addons, oca_db, invoices):
    oca_odoo = Odoo(odoo.python, odoo.odoo_path, odoo.addon_root, [oca_addons])
    try:
        oca_odoo.install(oca_db, OCA_MODULE)
        options = ["--oca-keep-pdf"] if args.oca_keep_pdf else []
        setup = oca_odoo.worker("oca-setup", oca_db, *options)
        log(f"OCA policy ready, {setup['seeded_lines']} earlier credit lines seeded")
        if args.profile:
            options += ["--profile", str(WORK_DIR / f"profile_oca_{invoices}.pstats")]
        log(f"timing {OCA_MODULE} on {oca_db}")
        return oca_odoo.worker("oca", oca_db, *options)
    except RuntimeError as error:
        log(f"OCA run failed, continuing without it: {error}")
        return {"error": str(error).splitlines()[0]}


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
COLUMNS = [
    ("N", 7),
    ("M", 6),
    ("plan s", 7),
    ("perform s", 9),
    ("total s", 8),
    ("RSS MB", 7),
    ("+RSS", 6),
    ("actions", 7),
    ("done", 6),
    ("review", 6),
    ("emails", 6),
    ("2nd run", 8),
    ("OCA s", 8),
    ("ratio", 6),
]


def table_row(row):
    ours = row["ours"]
    created = ours["created"]
    second = ours["second_run_created"]
    states = ours["history_states"]
    oca = row.get("oca") or {}
    oca_s = oca.get("total_s")
    values = [
        row["n"],
        row["m"],
        ours["plan_s"],
        ours["perform_s"],
        ours["total_s"],
        ours["rss_peak_mb"],
        ours["rss_peak_mb"] - ours["rss_before_mb"],
        created["history"],
        states.get("done", 0),
        states.get("to_review", 0),
        created["mail_mail"],
        sum(second.values()),
        oca_s if oca_s is not None else ("failed" if oca.get("error") else "-"),
        oca_s / ours["total_s"] if oca_s else "-",
    ]
    return " ".join(
        fmt(value, width) for value, (_name, width) in zip(values, COLUMNS, strict=True)
    )


def final_line(row):
    ours = row["ours"]
    runs = sorted(run["total_s"] for run in row.get("runs", ()))
    spread = (
        f" (median of {len(runs)} runs: " + ", ".join(f"{t:.1f}" for t in runs) + ")"
        if len(runs) > 1
        else ""
    )
    text = (
        f"N={row['n']} M={row['m']}: receivables_followup {ours['total_s']:.1f} s"
        f"{spread} "
        f"(plan {ours['plan_s']:.1f} s, perform {ours['perform_s']:.1f} s in "
        f"{ours['calls']} calls), peak RSS {ours['rss_peak_mb']:.0f} MB "
        f"(+{ours['rss_peak_mb'] - ours['rss_before_mb']:.0f} MB over the loaded "
        f"registry; {ours['rss_plan_mb']:.0f} MB after planning), "
        f"{ours['created']['history']} actions, "
        f"{ours['created']['mail_mail']} emails, "
        f"{ours['created']['activity']} activities; same-day second run created "
        f"{sum(ours['second_run_created'].values())} records"
    )
    if ours.get("tracemalloc_peak_mb") is not None:
        text += f"; tracemalloc peak {ours['tracemalloc_peak_mb']:.0f} MB"
    oca = row.get("oca")
    if oca and "total_s" in oca:
        text += (
            f"; OCA {OCA_MODULE} {oca['total_s']:.1f} s (lines "
            f"{oca['plan_s']:.1f} s, emails {oca['perform_s']:.1f} s, peak RSS "
            f"{oca['rss_peak_mb']:.0f} MB, {oca['created']['credit_lines']} lines, "
            f"{oca['created']['mail_mail']} emails; same-day second run "
            f"{oca['second_run_s']:.1f} s created "
            f"{oca['second_run_created']['credit_lines']} lines): ratio OCA/ours "
            f"{oca['total_s'] / ours['total_s']:.1f}x"
        )
    elif oca:
        text += f"; OCA failed: {oca['error']}"
    return text


def print_report(rows, notes):
    print()
    for note in notes:
        print(f"# {note}")
    print(" ".join(name.rjust(width) for name, width in COLUMNS))
    for row in rows:
        print(table_row(row))
    print()
    for row in rows:
        print(final_line(row))
    print(f"# {TARGETS}")


# ----------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--invoices",
        type=int,
        nargs="+",
        default=[10000],
        metavar="N",
        help="invoice counts (default 10000)",
    )
    parser.add_argument(
        "--customers", type=int, default=0, metavar="M", help="customers (default N/20)"
    )
    add_common_options(parser)
    parser.add_argument(
        "--with-oca",
        metavar="PATH_OR_WHEEL",
        help="account_credit_control 18.0: a .whl, an addons "
        "directory, or 'pypi' to download the wheel (default: "
        "the installed wheel, if any)",
    )
    parser.add_argument(
        "--no-oca",
        action="store_true",
        help="do not run OCA even when its wheel is installed",
    )
    parser.add_argument(
        "--oca-keep-pdf",
        action="store_true",
        help="keep the PDF attached to OCA's emails (ours sends none)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=0,
        help="actions per call (default: the addon's setting)",
    )
    parser.add_argument(
        "--scenario",
        choices=["escalated", "fresh"],
        default="escalated",
        help="escalated: every level is due "
        "for some invoices; fresh: no level performed yet",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="K",
        help="time our run K times, each on a fresh copy of the same data, and "
        "report the median (default 1); the machine's noise shows in the spread",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"cProfile the runs (slower); stats in {WORK_DIR}",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the Python heap peak (slower)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    run_in_venv(args.python, __file__)
    sys.path.insert(0, str(BENCH_DIR))
    odoo_path = find_odoo(args.odoo_path, args.python)
    addon_root, addon_note = addon_source(args.addon_ref)
    odoo = Odoo(args.python, odoo_path, addon_root)
    notes = [
        f"{MODULE} {addon_note}; Odoo {odoo_path}, python {args.python}, "
        f"scenario {args.scenario}, "
        f"batch size {args.batch_size or 'default'}, {os.cpu_count()} CPUs"
    ]
    oca_spec = (
        None
        if args.no_oca
        else (args.with_oca or ("auto" if installed_oca(args.python) else None))
    )
    oca_addons = None
    if oca_spec:
        try:
            oca_addons, oca_note = unpack_oca(oca_spec, args.python)
            notes.append(
                f"OCA: {oca_note}"
                + (
                    ""
                    if args.oca_keep_pdf
                    else ", its email template's PDF attachment removed"
                )
            )
        except (RuntimeError, OSError, zipfile.BadZipFile) as error:
            notes.append(f"OCA comparison skipped: {error}")
            log(notes[-1])
    if args.profile:
        notes.append(f"profiled (cProfile): times are inflated; stats in {WORK_DIR}")
    base = ensure_base_template(odoo, args.base_template)
    template = ensure_bench_template(odoo, base, args.keep_db)
    rows = []
    try:
        for invoices in args.invoices:
            rows.append(bench_one(args, odoo, template, invoices, oca_addons))
            print(final_line(rows[-1]), flush=True)
    finally:
        if not args.keep_db:
            drop_db(template)
        print_report(rows, notes)


if __name__ == "__main__":
    main()
