import logging
import os
import shutil
from pathlib import Path

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module

from ..services import agency_report

_logger = logging.getLogger(__name__)

REPORT_SUFFIXES = (".csv", ".xml")
DONE_DIR = "done"
FAILED_DIR = "failed"


class FollowupAgency(models.Model):
    """How an agency without an API reports back: the columns and date format
    of its CSV files, and the folder it drops them in."""

    # the reports of the agencies, apart from the adapters
    _inherit = "followup.agency"  # pylint: disable=consider-merging-classes-inherited

    report_separator = fields.Selection(
        [("auto", "Detect"), (";", "Semicolon (;)"), (",", "Comma (,)")],
        string="CSV Separator",
        default="auto",
        required=True,
    )
    report_date_format = fields.Char(
        string="CSV Date Format",
        default=agency_report.DEFAULT_CSV_DATE_FORMAT,
        help="How the agency writes dates in its CSV reports, as a strftime "
        "pattern: %d/%m/%Y for 31/01/2026, %Y-%m-%d for 2026-01-31.",
    )
    report_headers = fields.Text(
        string="CSV Column Names",
        help="The agency's own column names, one per line as field=Header, e.g. "
        "reference=N° dossier or amount=Somme encaissée. Fields: "
        + ", ".join(agency_report.FIELDS)
        + ". French and English names are understood without this.",
    )
    report_folder = fields.Char(
        groups="receivables_followup.group_followup_manager",
        help="A folder on the Odoo server where the agency drops its reports: "
        "a scheduled action imports each file, then moves it to done/ or failed/.",
    )
    import_ids = fields.One2many("followup.agency.import", "agency_id")

    @api.constrains("report_headers")
    def _check_report_headers(self):
        for agency in self:
            agency._report_csv_settings()

    def _report_csv_settings(self):
        """The agency's ``CsvSettings``.

        :raises UserError: when a column name line does not read
        """
        self.ensure_one()
        headers = {}
        for raw in (self.report_headers or "").splitlines():
            line = raw.strip()
            if not line:
                continue
            name, sep, header = line.partition("=")
            name = name.strip().lower()
            if not sep or name not in agency_report.FIELDS or not header.strip():
                raise UserError(
                    _(
                        "The column name line “%(line)s” does not read: write "
                        "field=Header with a field among %(fields)s.",
                        line=line,
                        fields=", ".join(agency_report.FIELDS),
                    )
                )
            headers.setdefault(name, []).append(header.strip())
        separator = self.report_separator
        return agency_report.CsvSettings(
            separator=None if separator in (False, "auto") else separator,
            date_format=self.report_date_format
            or agency_report.DEFAULT_CSV_DATE_FORMAT,
            headers={name: tuple(values) for name, values in headers.items()},
        )

    def action_import_report(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_import_wizard"
        )
        action["context"] = {"default_agency_id": self.id}
        return action

    def action_open_imports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_import"
        )
        action["domain"] = [("agency_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # folder pickup
    # ------------------------------------------------------------------
    @api.model
    def _cron_import_report_folders(self):
        """Scheduled action: import the reports the agencies dropped in their
        folders, each file then moved to ``done/`` or ``failed/``.

        Each file's import is committed before the file is moved, one file at a
        time: a crash before the commit leaves the file in the folder, imported
        again by the next run; a crash between the commit and the move has the
        next run import it again too, every row a duplicate then. Moving first
        would lose the rows of a file moved by a run that died before its
        commit. Running twice is safe, since a row already applied is a
        duplicate and a file already moved is no longer there.
        """
        agencies = self.sudo().search([("report_folder", "!=", False)])
        done = 0
        for agency in agencies:
            for path in agency._report_files():
                record = agency._import_report_file(path)
                done += 1
                if not odoo_module.current_test:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                agency._move_report(
                    path, FAILED_DIR if record.state == "failed" else DONE_DIR
                )
        return done

    def _report_files(self):
        self.ensure_one()
        folder = Path(self.sudo().report_folder)
        if not folder.is_dir():
            _logger.warning(
                "Report folder of agency %s is not a directory: %s", self.id, folder
            )
            return []
        return sorted(
            path
            for path in folder.iterdir()
            if path.is_file()
            and not path.is_symlink()
            and path.suffix.lower() in REPORT_SUFFIXES
        )

    def _import_report_file(self, path):
        """Import one dropped file, left where it is; return its import record
        (failed when the file was refused as a whole)."""
        self.ensure_one()
        Import = self.env["followup.agency.import"].sudo()
        record = Import
        message = None
        try:
            if path.stat().st_size > agency_report.MAX_BYTES:
                raise UserError(
                    Import._refusal_message(
                        agency_report.ReportRefused(
                            agency_report.TOO_LARGE, str(path.stat().st_size)
                        )
                    )
                )
            data = path.read_bytes()
            with self.env.cr.savepoint():
                record = Import._import_report(self, data, path.name, source="folder")
        except UserError as error:
            message = error.args[0]
        except OSError as error:
            message = str(error)
        if message:
            record = Import.create(
                {
                    "name": path.name,
                    "agency_id": self.id,
                    "source": "folder",
                    "state": "failed",
                    "message": message,
                }
            )
            _logger.info("Agency report %s refused: %s", path.name, message)
        return record

    @api.model
    def _move_report(self, path, subfolder):
        target_dir = path.parent / subfolder
        target_dir.mkdir(exist_ok=True)
        target = target_dir / path.name
        if target.exists():
            stem = f"{path.stem}.{fields.Datetime.now():%Y%m%d%H%M%S}.{os.getpid()}"
            target = target_dir / f"{stem}{path.suffix}"
        shutil.move(str(path), str(target))
        return target
