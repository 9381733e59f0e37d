"""Crash recovery of the import of agency report files (``crash_common``).

The import from a report folder is killed while a file's payments were being
booked, after a file was moved to done/, and before it was moved. Every row is
applied once.
"""

from datetime import date

from crash_common import (
    REPORT_FILES,
    REPORT_ROWS,
    Stage,
    describe,
    drain_outbox,
    query,
    query_none,
    report,
    script,
    snapshot,
)

IMPORT = r"""
from odoo.addons.receivables_followup.models import followup_agency_import

Agency = type(env["followup.agency"])
Pending = followup_agency_import._PendingPayments
stop, at = PARAMS.get("stop"), PARAMS.get("at")
imported = [0]
book_original = Pending._book
move_original = Agency._move_report
file_original = Agency._import_report_file

def _import_report_file(self, path, *args, **kwargs):
    imported[0] += 1
    mark("importing", file=path.name, nth=imported[0])
    return file_original(self, path, *args, **kwargs)

def _book(self, rows):
    booked = book_original(self, rows)
    if stop == "booking" and imported[0] == at:
        hold("booking", rows=len(rows))
    return booked

def _move_report(self, path, subfolder):
    if stop == "before_move" and imported[0] == at:
        hold("before_move", file=path.name)
    target = move_original(self, path, subfolder)
    if stop == "moved" and imported[0] == at:
        hold("moved", file=path.name, to=str(target))
    return target

Agency._import_report_file = _import_report_file
Pending._book = _book
Agency._move_report = _move_report

done = env["followup.agency"]._cron_import_report_folders()
env.cr.commit()
result(files=done)
"""


# 4. the agency's report files, imported from its report folder
# ----------------------------------------------------------------------
REPORT_HEADER = (
    "Référence;Type;Date;Montant;Devise;Bénéficiaire;Commission;Statut;"
    "Motif de clôture;ID paiement\n"
)

IMPORT_COUNTS = {
    "imports": "SELECT count(*), coalesce(sum(count_applied), 0), "
    "coalesce(sum(count_duplicate), 0), coalesce(sum(count_rejected), 0) "
    "FROM followup_agency_import",
    "rows applied": "SELECT count(*), count(DISTINCT identity) "
    "FROM followup_agency_import_line WHERE state = 'applied'",
    "payments of the reports": "SELECT count(*), coalesce(sum(amount), 0) "
    "FROM followup_agency_payment WHERE agency_payment_id LIKE 'IMP-%%'",
}


def write_reports(world, folder):
    """REPORT_FILES files of REPORT_ROWS payment rows each (1.00 collected by
    the agency, each its own payment id), over the cases in turn."""
    cases = query(
        world.database,
        "SELECT c.creditor_reference, cur.name FROM followup_agency_case c "
        "JOIN res_currency cur ON cur.id = c.currency_id "
        "WHERE c.agency_id = %s ORDER BY c.id",
        [world.agency_id],
    )
    day = date.today().strftime("%d/%m/%Y")
    number = 0
    for index in range(REPORT_FILES):
        rows = []
        for _ in range(REPORT_ROWS):
            reference, currency = cases[number % len(cases)]
            number += 1
            rows.append(
                f"{reference};paiement;{day};1,00;{currency};agence;;;;IMP-{number}\n"
            )
        path = folder / f"report-{index + 1}.csv"
        path.write_text(REPORT_HEADER + "".join(rows), encoding="utf-8")
    return number


def folder_state(folder):
    return {
        name: sorted(path.name for path in (folder / sub).glob("*.csv"))
        if (folder / sub).is_dir()
        else []
        for name, sub in (("waiting", "."), ("done", "done"), ("failed", "failed"))
    }


def test_report_folder_killed_mid_import_applies_each_row_once(
    crash_agency, tmp_path, capsys
):
    world = crash_agency
    drain_outbox(world)
    folder = tmp_path / "reports"
    folder.mkdir()
    rows = write_reports(world, folder)
    query_none(
        world.database,
        "UPDATE followup_agency SET report_folder = %s WHERE id = %s",
        [str(folder), world.agency_id],
    )
    lines = [
        f"{REPORT_FILES} CSV files of {REPORT_ROWS} payment rows ({rows} rows) "
        f"over {len(world.odoo_cases())} cases"
    ]
    stages = [
        ("booking", 2),  # the second file's payments booked, not committed
        ("moved", 1),  # a file moved to done/
        ("before_move", 1),  # a file imported, not moved yet
    ]
    for stop, at in stages:
        stage = Stage(world.database, script(IMPORT, stop=stop, at=at)).run(
            kill_at=stop
        )
        counts = snapshot(world.database, IMPORT_COUNTS)
        lines.append(
            describe(stage)
            + f"; committed then: {counts}; files {folder_state(folder)}"
        )
    last = Stage(world.database, script(IMPORT)).run()
    after = snapshot(world.database, IMPORT_COUNTS)
    files = folder_state(folder)
    lines.append(f"restarted: {last.result['files']} files imported; {after}")
    lines.append(f"files: {files}")
    report(capsys, "agency report folder", lines)
    assert after["rows applied"] == [str(rows), str(rows)]
    assert after["payments of the reports"] == [str(rows), f"{rows:.2f}"]
    assert after["imports"][3] == "0"
    assert files["waiting"] == [] and files["failed"] == []
    assert len(files["done"]) >= REPORT_FILES
