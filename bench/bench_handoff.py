#!/usr/bin/env python3
"""Time the hand-off of N debtors (K open invoices each) to a collection agency.

A throwaway database is copied from the bench template of ``bench/run`` (the base
template plus receivables_followup and its seed invoices) and filled in SQL by
``datagen.py``: N customers, N*K open posted invoices, due 1 to 120 days ago, one
in five in USD (so some debtors make two cases, one per currency). For each run
(``--documents no``: cases only; ``yes``: cases and one invoice PDF per invoice;
``both``, the default: the two, each on its own copy of the same data), a fresh
agency sandbox (``agency_sandbox``, a throwaway SQLite file) is started on a free
loopback port, then a separate Odoo process (``handoff_worker.py``) hands the
debtors over through the hand-off wizard, ``--chunk`` debtors per wizard with the
agency's preview, and sends the outbox as Odoo's cron runner does. The driver
then checks that the sandbox holds exactly one case per Odoo case and one file
per invoice sent, and prints the figures.

Figures only: nothing here asserts a time; the exit status is not 0 when a run
crashed or the sandbox's counts are wrong. One Odoo process runs at a time.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from benchlib import (  # noqa: E402
    MODULE,
    REPO_ROOT,
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

SANDBOX = "agency_sandbox"
TARGET_CASES = 20.0
TARGET_PDFS = 10.0


# ----------------------------------------------------------------------
# Sources and processes
# ----------------------------------------------------------------------
def sandbox_source(addon_root):
    """Make the agency sandbox of the measured commit importable: the exported
    tree of ``addon_source`` gets it too (the working tree has it already)."""
    addon_root = Path(addon_root)
    if addon_root != REPO_ROOT and not (addon_root / SANDBOX / "testing.py").is_file():
        sha = addon_root.name
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", sha, SANDBOX],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(addon_root)], input=archive, check=True)
    sys.path.insert(0, str(addon_root))
    from agency_sandbox.testing import SandboxProcess

    return SandboxProcess


def worker(odoo, db, *options):
    """Run ``handoff_worker.py`` on ``db``; return its result."""
    return odoo.run_worker("handoff_worker.py", db, *options, logname=f"{db}-handoff")


# ----------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------
def check_sandbox(result, sandbox_cases, sandbox_files, documents):
    """What the sandbox holds against what Odoo sent: one case per Odoo case
    (same creditor references and ids), one file per invoice when documents are
    sent, none otherwise. Returns the list of problems (empty: all good)."""
    problems = []
    odoo_cases = {
        ref: (agency_id, lines) for ref, agency_id, lines in result["case_refs"]
    }
    by_ref = Counter(case.get("creditorReference") for case in sandbox_cases)
    doubles = [ref for ref, count in by_ref.items() if count > 1]
    if doubles:
        problems.append(f"{len(doubles)} creditor references twice at the sandbox")
    if len(sandbox_cases) != len(odoo_cases):
        problems.append(
            f"{len(sandbox_cases)} cases at the sandbox, {len(odoo_cases)} in Odoo"
        )
    missing = set(odoo_cases) - set(by_ref)
    extra = set(by_ref) - set(odoo_cases)
    if missing or extra:
        problems.append(f"{len(missing)} Odoo cases missing, {len(extra)} unknown")
    ids = {case.get("id") for case in sandbox_cases}
    unlinked = [
        ref for ref, (agency_id, _) in odoo_cases.items() if agency_id not in ids
    ]
    if unlinked:
        problems.append(f"{len(unlinked)} Odoo cases without their sandbox id")
    expected_files = sum(lines for _, lines in odoo_cases.values()) if documents else 0
    if len(sandbox_files) != expected_files:
        problems.append(
            f"{len(sandbox_files)} files at the sandbox, {expected_files} expected"
        )
    if documents:
        per_case = Counter(_file_case(entry) for entry in sandbox_files)
        wrong = [
            ref
            for ref, (agency_id, lines) in odoo_cases.items()
            if per_case.get(agency_id, 0) != lines
        ]
        if wrong:
            problems.append(f"{len(wrong)} cases without exactly one file per invoice")
        names = Counter(
            (_file_case(e), e.get("fileName") or e.get("name")) for e in sandbox_files
        )
        if any(count > 1 for count in names.values()):
            problems.append("the same invoice uploaded twice")
    return problems


def _file_case(entry):
    return entry.get("caseId") or entry.get("case_id")


def bench_run(args, odoo, SandboxProcess, data_db, documents):
    db = f"bench_handoff_{args.debtors}_{documents}"
    copy_db(data_db, db)
    checkpoint(db)
    api_key = "bench-" + secrets.token_hex(8)
    sandbox = SandboxProcess(api_key=api_key, port=0)
    sandbox.start()
    log(f"sandbox at {sandbox.base_url}; handing off on {db} (documents: {documents})")
    try:
        options = [
            "--base-url",
            sandbox.base_url,
            "--api-key",
            api_key,
            "--documents",
            documents,
            "--chunk",
            str(args.chunk),
        ]
        if args.print_delay is not None:
            options += ["--print-delay", str(args.print_delay)]
        if args.no_report_css:
            options.append("--no-report-css")
        if args.keep_tied_due_dates:
            options.append("--keep-tied-due-dates")
        if args.profile:
            options += ["--profile", str(WORK_DIR / f"profile_handoff_{documents}")]
        result = worker(odoo, db, *options)
        sandbox_cases = sandbox.cases()
        sandbox_files = sandbox.files()
        result["sandbox_cases"] = len(sandbox_cases)
        result["sandbox_files"] = len(sandbox_files)
        result["sandbox_file_bytes"] = sum(f.get("size") or 0 for f in sandbox_files)
        result["problems"] = check_sandbox(
            result, sandbox_cases, sandbox_files, documents == "yes"
        )
    except BaseException:
        if sandbox.log_path and Path(sandbox.log_path).is_file():
            shutil.copy(sandbox.log_path, WORK_DIR / "logs" / f"{db}-sandbox.log")
        raise
    finally:
        sandbox.stop()
        sandbox.cleanup()
        if not args.keep_db:
            drop_db(db)
    result["documents"] = documents
    del result["case_refs"]
    log(summary(result))
    return result


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
COLUMNS = [
    ("PDFs", 4),
    ("debtors", 7),
    ("cases", 6),
    ("invoices", 8),
    ("requests", 8),
    ("wizard s", 8),
    ("preview s", 9),
    ("outbox s", 8),
    ("cases/s", 7),
    ("PDFs/s", 6),
    ("uploads", 7),
    ("failed", 6),
    ("RSS MB", 6),
    ("sandbox", 8),
]


def rates(result):
    outbox = result["outbox_s"] or float("nan")
    cases_s = result["cases"] / outbox
    pdfs_s = result["sandbox_files"] / outbox if result["documents"] == "yes" else None
    return cases_s, pdfs_s


def table_row(result):
    cases_s, pdfs_s = rates(result)
    values = [
        result["documents"],
        result["debtors"],
        result["cases"],
        result["case_lines"],
        result["requests"],
        result["wizard_s"],
        result["preview_s"],
        result["outbox_s"],
        cases_s,
        pdfs_s if pdfs_s is not None else "-",
        result["uploads"],
        result["requests_failed"] + result["requests_waiting"],
        result["rss_peak_mb"],
        "ok" if not result["problems"] else "WRONG",
    ]
    return " ".join(fmt(v, w) for v, (_n, w) in zip(values, COLUMNS, strict=True))


def summary(result):
    cases_s, pdfs_s = rates(result)
    text = (
        f"documents {result['documents']}: {result['debtors']} debtors, "
        f"{result['cases']} cases ({result['case_states']}), "
        f"{result['case_lines']} invoices, {result['requests']} requests "
        f"({result['requests_by_kind_state']}); wizard {result['wizard_s']:.1f} s "
        f"in {result['wizards']} wizards (open {result['wizard_open_s']:.1f} s, "
        f"of which {result['preview_calls']} previews {result['preview_s']:.1f} s; "
        f"confirm {result['wizard_confirm_s']:.1f} s; {result['mails_queued']} "
        f"transfer notices queued); outbox {result['outbox_s']:.1f} s in "
        f"{result['outbox_calls']} calls (case creations "
        f"{result['create_http_s']:.1f} s over HTTP"
    )
    if result["documents"] == "yes":
        text += (
            f", {result['render_batches']} PDF batches rendered in "
            f"{result['render_s']:.1f} s, {result['uploads']} uploads "
            f"{result['upload_http_s']:.1f} s over HTTP, "
            f"{result['sandbox_file_bytes'] / 2**20:.1f} MB"
        )
    text += (
        f"): {cases_s:.1f} cases/s"
        + (f", {pdfs_s:.1f} PDFs/s" if pdfs_s is not None else "")
        + f"; end to end (wizard + outbox) "
        f"{result['cases'] / (result['wizard_s'] + result['outbox_s']):.1f} cases/s; "
        f"peak RSS {result['rss_peak_mb']:.0f} MB (registry loaded: "
        f"{result['rss_before_mb']:.0f} MB; wkhtmltopdf "
        f"{result['children_rss_peak_mb']:.0f} MB); failed or waiting requests "
        f"{result['requests_failed'] + result['requests_waiting']}"
    )
    if result["request_errors"]:
        text += f" (first errors: {result['request_errors']})"
    if result["agency_paused"]:
        text += f"; AGENCY PAUSED: {result['agency_pause_reason']}"
    text += (
        f"; {result['tied_due_dates_moved']} invoices moved a day or more to "
        f"avoid a debtor's same-day due dates; debtors by country "
        f"{result['countries']}; report.print_delay {result['print_delay_ms']} ms"
        + ("" if result["report_css"] else "; PDFs WITHOUT their stylesheets")
    )
    text += "; sandbox: " + (
        f"{result['sandbox_cases']} cases, {result['sandbox_files']} files, as sent"
        if not result["problems"]
        else "WRONG: " + "; ".join(result["problems"])
    )
    return text


def target_lines(results):
    lines = []
    for result in results:
        cases_s, pdfs_s = rates(result)
        if result["documents"] == "no":
            met = "met" if cases_s >= TARGET_CASES else "NOT met"
            lines.append(
                f"target >= {TARGET_CASES:.0f} cases/s without documents: "
                f"{cases_s:.1f} cases/s, {met}"
            )
        else:
            met = "met" if pdfs_s >= TARGET_PDFS else "NOT met"
            lines.append(
                f"target >= {TARGET_PDFS:.0f} PDFs/s with documents: "
                f"{pdfs_s:.1f} PDFs/s, {met}"
            )
    return lines


def print_report(results, notes):
    print()
    for note in notes:
        print(f"# {note}")
    print(" ".join(name.rjust(width) for name, width in COLUMNS))
    for result in results:
        print(table_row(result))
    print()
    for result in results:
        print(summary(result))
    for line in target_lines(results):
        print(f"# {line}")


# ----------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debtors", type=int, default=1000, metavar="N")
    parser.add_argument(
        "--invoices-per-debtor", type=int, default=3, metavar="K", help="(default 3)"
    )
    parser.add_argument(
        "--documents",
        choices=["no", "yes", "both"],
        default="both",
        help="upload each invoice's PDF (both: two runs on two copies of the data)",
    )
    parser.add_argument(
        "--chunk", type=int, default=100, help="debtors per wizard (default 100)"
    )
    add_common_options(parser, "the addon and the sandbox")
    parser.add_argument(
        "--no-report-css",
        action="store_true",
        help="render the PDFs without their stylesheets (report.url on a closed "
        "port, as in the addon's tests) instead of serving them from the worker",
    )
    parser.add_argument(
        "--print-delay",
        type=int,
        metavar="MS",
        help="set Odoo's report.print_delay, the javascript delay of every "
        "wkhtmltopdf call (default: untouched, Odoo's 1000 ms)",
    )
    parser.add_argument(
        "--keep-tied-due-dates",
        action="store_true",
        help="do not move apart a debtor's invoices due the same day (by default "
        "they are: the wizard's preview crashes on them, see handoff_worker.py)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"cProfile the wizard and the outbox (slower); stats in {WORK_DIR}",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    run_in_venv(args.python, __file__)
    odoo_path = find_odoo(args.odoo_path, args.python)
    addon_root, addon_note = addon_source(args.addon_ref)
    SandboxProcess = sandbox_source(addon_root)
    odoo = Odoo(args.python, odoo_path, addon_root)
    runs = ["no", "yes"] if args.documents == "both" else [args.documents]
    notes = [
        f"{MODULE} and {SANDBOX} {addon_note}; Odoo {odoo_path}, python "
        f"{args.python}, {os.cpu_count()} CPUs; {args.debtors} debtors x "
        f"{args.invoices_per_debtor} invoices, {args.chunk} debtors per wizard"
    ]
    if args.profile:
        notes.append(f"profiled (cProfile): times are inflated; stats in {WORK_DIR}")
    base = ensure_base_template(odoo, args.base_template)
    template = ensure_bench_template(odoo, base, args.keep_db)
    data_db = f"bench_handoff_{args.debtors}_data"
    results = []
    failed = False
    try:
        copy_db(template, data_db)
        generate(
            data_db, args.debtors * args.invoices_per_debtor, args.debtors, "fresh"
        )
        for documents in runs:
            results.append(bench_run(args, odoo, SandboxProcess, data_db, documents))
    except BaseException:
        failed = True
        raise
    finally:
        if not args.keep_db:
            drop_db(data_db)
            drop_db(template)
        if results:
            print_report(results, notes)
    if failed or any(result["problems"] for result in results):
        sys.exit(1)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    log(f"done in {time.perf_counter() - start:.0f} s")
