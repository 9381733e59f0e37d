"""How an agency's report comes in and what is refused: rows rejected with
their reason while the valid ones are applied, hostile files refused whole, the
import wizard, the agency's own column names, and the folder pickup. Rows
applied are in ``test_agency_import.py``."""

import base64
import tempfile
from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..services import agency_report
from .common_agency_import import CSV_HEADER, NS, AgencyImportCommon


@tagged("post_install", "-at_install")
class TestAgencyImportFiles(AgencyImportCommon):
    # ------------------------------------------------------------------
    # rejected rows
    # ------------------------------------------------------------------
    def test_every_rejected_reason_is_listed_and_valid_rows_applied(self):
        case, (invoice,) = self._submitted_case([1000.0])
        ref = case.creditor_reference
        day = self._day()
        record = self._import(
            self._csv(
                f"RF-UNKNOWN;statut;{day};;;;;actif;;",  # line 2
                f"{ref};paiement;{day};1 000,01;EUR;;;;;P9",  # 3
                f"{ref};paiement;{day};10,00;USD;;;;;P8",  # 4
                f"{ref};paiement;{day};dix;EUR;;;;;P7",  # 5
                f"{ref};paiement;31/31/2026;10,00;EUR;;;;;P6",  # 6
                f"{ref};remboursement;{day};;;;;;;",  # 7
                f"{ref};statut;{day};;;;;en vacances;;",  # 8
                f"{ref};annulation;{day};;;;;;;NOPE",  # 9
                f"{ref};paiement;{day};100,00;EUR;;;;;P1",  # 10, valid
            )
        )
        self.assertEqual(record.state, "partial")
        self.assertEqual((record.count_applied, record.count_rejected), (1, 8))
        self.assertEqual(
            [
                (line.line_number, line.state, line.field_name, line.reason)
                for line in record.line_ids.sorted("line_number")
            ],
            [
                (2, "rejected", "reference", "unknown_case"),
                (3, "rejected", "amount", "above_remaining"),
                (4, "rejected", "currency", "wrong_currency"),
                (5, "rejected", "amount", "malformed_amount"),
                (6, "rejected", "date", "malformed_date"),
                (7, "rejected", "kind", "unknown_kind"),
                (8, "rejected", "status", "unknown_status"),
                (9, "rejected", "payment_id", "unknown_payment"),
                (10, "applied", False, False),
            ],
        )
        self.assertEqual(invoice.amount_residual, 900.0)
        # corrected and imported again: the rejected rows were never applied
        fixed = self._import(self._csv(f"{ref};paiement;{day};10,00;EUR;;;;;P8"))
        self.assertEqual(fixed.count_applied, 1)

    def test_everything_rejected_is_a_failed_import(self):
        record = self._import(self._csv(f"RF-NONE;statut;{self._day()};;;;;actif;;"))
        self.assertEqual(record.state, "failed")

    # ------------------------------------------------------------------
    # hostile files
    # ------------------------------------------------------------------
    def test_hostile_files_are_refused_and_nothing_applied(self):
        case, (invoice,) = self._submitted_case([1000.0])
        ref = case.creditor_reference
        good = f"{ref};paiement;{self._day()};100,00;EUR;;;;;P1"
        laughs = (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            f'<agencyReport xmlns="{NS}"><status reference="&lol3;" status="active"/>'
            "</agencyReport>"
        )
        hostile = {
            "malformed XML": (
                self._xml(f'<status reference="{ref}" status="active">'),
                "r.xml",
            ),
            "schema-invalid XML": (
                self._xml(f'<payment reference="{ref}" amount="ten"/>'),
                "r.xml",
            ),
            "external entity": (
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
                b'"file:///etc/passwd">]><agencyReport xmlns="'
                + NS.encode()
                + b'"><status reference="&x;" status="active"/></agencyReport>',
                "r.xml",
            ),
            "billion laughs": (laughs.encode(), "r.xml"),
            "wrong encoding": (
                (CSV_HEADER + good + "\n").encode("utf-16"),
                "r.csv",
            ),
            "latin-1": (
                (CSV_HEADER + good + ";é\n").encode("latin-1"),
                "r.csv",
            ),
            "oversized": (
                self._csv(good) + b" " * agency_report.MAX_BYTES,
                "r.csv",
            ),
            "formula": (
                self._csv(good, f'{ref};statut;;;;;;=HYPERLINK("http://x.example");;'),
                "r.csv",
            ),
        }
        for label, (data, name) in hostile.items():
            with self.subTest(label), self.assertRaises(UserError):
                self._import(data, name)
        self.assertFalse(self.Import.search([("agency_id", "=", self.agency.id)]))
        self.assertFalse(case.agency_payment_ids)
        self.assertEqual(case.state, "submitted")
        self.assertEqual(invoice.amount_residual, 1000.0)

    # ------------------------------------------------------------------
    # wizard and folder
    # ------------------------------------------------------------------
    def test_wizard_imports_and_opens_the_report(self):
        case, _invoices = self._submitted_case([1000.0])
        data = self._csv(f"{case.creditor_reference};statut;{self._day()};;;;;actif;;")
        wizard = self.env["followup.agency.import.wizard"].create(
            {
                "agency_id": self.agency.id,
                "file": base64.b64encode(data),
                "filename": "rapport.csv",
            }
        )
        action = wizard.action_import()
        record = self.Import.browse(action["res_id"])
        self.assertEqual(record.name, "rapport.csv")
        self.assertEqual(record.user_id, self.env.user)
        self.assertEqual(case.state, "active")

    def test_agency_column_names_and_date_format(self):
        case, _invoices = self._submitted_case([1000.0])
        self.agency.write(
            {
                "report_separator": ",",
                "report_date_format": "%Y%m%d",
                "report_headers": "reference=N° dossier\nkind=Nature\nstatus=Etat",
            }
        )
        data = (
            "N° dossier,Nature,Date,Etat\n"
            f"{case.creditor_reference},status,{self.today:%Y%m%d},paused\n"
        ).encode()
        record = self._import(data)
        self.assertEqual(record.count_applied, 1)
        self.assertEqual(case.state, "paused")
        with self.assertRaises(UserError):
            self.agency.report_headers = "not a mapping"

    def test_folder_pickup_moves_each_file(self):
        case, _invoices = self._submitted_case([1000.0])
        folder = Path(tempfile.mkdtemp(prefix="rf_reports_"))
        self.addCleanup(__import__("shutil").rmtree, folder, True)
        (folder / "a_good.csv").write_bytes(
            self._csv(f"{case.creditor_reference};statut;{self._day()};;;;;actif;;")
        )
        (folder / "b_bad.xml").write_bytes(b"<not xml")
        (folder / "notes.txt").write_text("left alone")
        self.agency.report_folder = str(folder)

        done = self.env["followup.agency"]._cron_import_report_folders()

        self.assertEqual(done, 2)
        self.assertTrue((folder / "done" / "a_good.csv").is_file())
        self.assertTrue((folder / "failed" / "b_bad.xml").is_file())
        self.assertTrue((folder / "notes.txt").is_file())
        self.assertFalse((folder / "a_good.csv").exists())
        imports = self.Import.search([("agency_id", "=", self.agency.id)])
        self.assertEqual(
            sorted(imports.mapped(lambda i: (i.name, i.state, i.source))),
            [("a_good.csv", "done", "folder"), ("b_bad.xml", "failed", "folder")],
        )
        self.assertIn("XML", imports.filtered(lambda i: i.state == "failed").message)
        self.assertEqual(case.state, "active")
        # nothing left: a second run imports nothing
        self.assertEqual(self.env["followup.agency"]._cron_import_report_folders(), 0)
