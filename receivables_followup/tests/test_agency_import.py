"""An agency's status and payment report imported: cases handed off to the
Debitura sandbox, then a CSV or XML report applied through the same code path as
the callbacks. Amounts checked are computed by hand in the docstrings. Rejected
rows, hostile files, the wizard and the folder pickup are in
``test_agency_import_files.py``."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import BaseCase, tagged

from ..services import agency_report
from .common_agency_import import CSV_HEADER, AgencyImportCommon


@tagged("post_install", "-at_install")
class TestAgencyReportParsing(BaseCase):
    """The report read into rows, without the ORM."""

    def test_french_csv_with_decimal_commas_and_bom(self):
        data = (
            "\ufeff" + CSV_HEADER + "RF-1;paiement;03/02/2026;1 234,56;EUR;agence;"
            "185,18;;;P1\n"
        ).encode()
        file_format, (row,) = agency_report.parse(data, filename="r.csv")
        self.assertEqual(file_format, "csv")
        self.assertEqual(row.kind, "payment")
        self.assertEqual(str(row.amount), "1234.56")
        self.assertEqual(str(row.commission), "185.18")
        self.assertEqual(row.recipient, "agency")
        self.assertEqual(row.identity, "RF-1|payment|P1")

    def test_english_csv_with_commas_and_agency_headers(self):
        data = (
            b"Case;Kind;When;Sum\n".replace(b";", b",") + b"RF-1,status,2026-02-01,\n"
        )
        settings = agency_report.CsvSettings(
            date_format="%Y-%m-%d",
            headers={"reference": ("Case",), "kind": ("Kind",), "date": ("When",)},
        )
        with self.assertRaises(agency_report.ReportRefused):
            agency_report.parse(data, "csv")  # no reference column by default
        data = b"Case,Kind,When,Status\nRF-1,status,2026-02-01,on hold\n"
        _format, (row,) = agency_report.parse(data, "csv", settings=settings)
        self.assertEqual(row.state, "paused")
        self.assertEqual(str(row.day), "2026-02-01")

    def test_amounts(self):
        for text, value in [
            ("1 234,56", "1234.56"),
            ("1.234,56", "1234.56"),
            ("1,234.56", "1234.56"),
            ("1234.5", "1234.5"),
            ("12", "12"),
            ("1\u202f000,00", "1000.00"),
        ]:
            self.assertEqual(str(agency_report.parse_amount(text)), value)
        for text in ("12a", "1,2,3.4.5", "€12"):
            with self.assertRaises(ValueError):
                agency_report.parse_amount(text)

    def test_identity_without_ids_is_a_hash_of_the_row(self):
        line = "RF-1;statut;01/02/2026;;;;;actif;;\n"
        data = (CSV_HEADER + line + line.replace("actif", " Actif ")).encode()
        _format, (first, second) = agency_report.parse(data, "csv")
        self.assertTrue(first.identity.startswith("RF-1|sha|"))
        self.assertEqual(first.identity, second.identity)

    def test_formula_detection(self):
        self.assertTrue(agency_report.is_formula('=HYPERLINK("http://x")'))
        self.assertTrue(agency_report.is_formula("@SUM(A1)"))
        self.assertTrue(agency_report.is_formula("+cmd|' /C calc'!A0"))
        self.assertFalse(agency_report.is_formula("-12,50"))
        self.assertFalse(agency_report.is_formula("-"))
        self.assertFalse(agency_report.is_formula("RF-1"))


@tagged("post_install", "-at_install")
class TestAgencyImport(AgencyImportCommon):
    # ------------------------------------------------------------------
    # each row kind
    # ------------------------------------------------------------------
    def test_csv_status_payments_with_and_without_commission_and_reversal(self):
        """Invoices 1,200 and 500. P1: 1,000 collected, the agency states a
        commission of 120 (not 15 % = 150): clearing +1,000, receivable -1,000
        on the oldest invoice, fee 120. P2: 150 collected without commission:
        fee 15 % = 22.50, settles the rest of the oldest (200 -> 50). P2 then
        reversed: the oldest owes 200 again."""
        case, (old, new) = self._submitted_case([1200.0, 500.0])
        ref = case.creditor_reference
        day = self._day()
        record = self._import(
            self._csv(
                f"{ref};statut;{day};;;;;actif;;",
                f"{ref};paiement;{day};1 000,00;EUR;agence;120,00;;;P1",
                f"{ref};paiement;{day};150,00;EUR;;;;;P2",
                f"{ref};annulation;{day};;;;;;;P2",
            )
        )
        self.assertRecordValues(
            record,
            [
                {
                    "state": "done",
                    "file_format": "csv",
                    "count_applied": 4,
                    "count_rejected": 0,
                    "count_duplicate": 0,
                }
            ],
        )
        self.assertEqual(case.state, "active")
        self.assertEqual(case.agency_lifecycle, "actif")
        p1, p2 = case.agency_payment_ids.sorted("agency_payment_id")
        self.assertRecordValues(
            p1 | p2,
            [
                {"agency_payment_id": "P1", "state": "booked", "fee_amount": 120.0},
                {"agency_payment_id": "P2", "state": "reversed", "fee_amount": 22.5},
            ],
        )
        self.assertEqual(p1.fee_rate, 12.0)
        receivable = self._receivable(old).account_id
        # one entry for the report's payments, each payment's items its own
        self.assertEqual(p1.move_id, p2.move_id)
        # P1 880 + P2 127.50 owed, fees 120 + 22.50; each payment's credits
        self.assertRecordValues(
            p1.move_id.line_ids.sorted("id"),
            [
                {"account_id": self.clearing.id, "debit": 1007.5, "credit": 0.0},
                {"account_id": self.fee_account.id, "debit": 142.5, "credit": 0.0},
                {"account_id": receivable.id, "debit": 0.0, "credit": 1000.0},
                {"account_id": receivable.id, "debit": 0.0, "credit": 150.0},
            ],
        )
        self.assertEqual(p1.move_line_ids.credit, 1000.0)
        self.assertTrue(p2.reversal_move_id)
        self.assertRecordValues(
            old | new,
            [
                {"amount_residual": 200.0, "payment_state": "partial"},
                {"amount_residual": 500.0, "payment_state": "not_paid"},
            ],
        )
        # handed 1,700, 1,000 collected and not reversed
        self.assertEqual(case.amount_collected, 1000.0)
        self.assertEqual(case.amount_remaining, 700.0)
        self.assertEqual(record.attachment_id.raw[:10], CSV_HEADER.encode()[:10])

    def test_xml_status_payment_and_closing_by_the_agency_reference(self):
        """XML with the agency's own reference given apart: the case takes it;
        a payment of 500 paid to the company directly is recorded, not booked;
        a closing "uncollectable" closes the case."""
        case, (invoice,) = self._submitted_case([800.0])
        ref = case.creditor_reference
        record = self._import(
            self._xml(
                f'<status reference="{ref}" agencyReference="AG-77" '
                f'date="{self.today}" status="needs details"/>',
                f'<payment reference="AG-77" paymentId="D1" date="{self.today}" '
                f'amount="500.00" currency="EUR" recipient="creditor"/>',
                '<closing reference="AG-77" rowId="9" closeCode="irrécouvrable"/>',
            ),
            "report.xml",
        )
        self.assertEqual(record.file_format, "xml")
        self.assertEqual(record.count_applied, 3, record.line_ids.mapped("reason"))
        self.assertEqual(case.agency_reference, "AG-77")
        self.assertEqual(case.state, "closed_uncollectable")
        self.assertEqual(case.agency_close_code, "Pre-Legal Exhausted – No Payment")
        self.assertRecordValues(
            case.agency_payment_ids,
            [{"agency_payment_id": "D1", "state": "recorded", "move_id": False}],
        )
        self.assertEqual(invoice.amount_residual, 800.0)
        self.assertEqual(
            record.line_ids.sorted("line_number").mapped("kind"),
            ["status", "payment", "closing"],
        )

    def test_end_to_end_report_closes_the_case_paid(self):
        """Hand-off of 1,200 + 500, then the agency's report: the whole 1,700
        collected (fee 15 % = 255), then a closing "paid": the case is closed
        paid, both invoices paid and reconciled, the agency owes 1,445."""
        case, invoices = self._submitted_case([1200.0, 500.0])
        ref = case.creditor_reference
        day = self._day()
        record = self._import(
            self._csv(
                f"{ref};paiement;{day};1 700,00;EUR;agence;;;;PAY-1",
                f"{ref};clôture;{day};;;;;;payé;",
            )
        )
        self.assertEqual(record.state, "done")
        self.assertRecordValues(
            case,
            [
                {
                    "state": "closed_paid",
                    "agency_close_code": "Paid",
                    "amount_collected": 1700.0,
                    "amount_remaining": 0.0,
                }
            ],
        )
        for invoice in invoices:
            self.assertEqual(invoice.payment_state, "paid")
            self.assertTrue(self._receivable(invoice).reconciled)
            self.assertFalse(invoice.followup_at_agency)
        clearing = self.env["account.move.line"].search(
            [("account_id", "=", self.clearing.id), ("parent_state", "=", "posted")]
        )
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 1445.0)

    def test_payments_of_several_cases_are_booked_together(self):
        """Two cases in one report. Case A (600 + 400): Q1 500 and Q2 300, in one
        batch: Q1 takes 500 of the oldest (600 -> 100), Q2 the rest of it (100)
        then 200 of the second (400 -> 200); fees 15 % = 75 and 45. Case B
        (1,000): Q3 1,000 then a closing "paid", which books the batch first:
        the case closes paid on a settled invoice. One entry for the three
        payments, each with its own items and notes; the agency owes
        800 + 1,000 - 270 = 1,530."""
        case_a, (a_old, a_new) = self._submitted_case([600.0, 400.0])
        case_b, (b_invoice,) = self._submitted_case([1000.0], partner=self.customer_be)
        day = self._day()
        a_ref, b_ref = case_a.creditor_reference, case_b.creditor_reference
        record = self._import(
            self._csv(
                f"{a_ref};paiement;{day};500,00;EUR;agence;;;;Q1",
                f"{b_ref};paiement;{day};1 000,00;EUR;agence;;;;Q3",
                f"{a_ref};paiement;{day};300,00;EUR;agence;;;;Q2",
                f"{b_ref};clôture;{day};;;;;;payé;",
            )
        )
        self.assertEqual((record.state, record.count_applied), ("done", 4))
        self.assertRecordValues(
            a_old | a_new | b_invoice,
            [
                {"amount_residual": 0.0, "payment_state": "paid"},
                {"amount_residual": 200.0, "payment_state": "partial"},
                {"amount_residual": 0.0, "payment_state": "paid"},
            ],
        )
        q1, q2 = case_a.agency_payment_ids.sorted("agency_payment_id")
        self.assertRecordValues(q1 | q2, [{"fee_amount": 75.0}, {"fee_amount": 45.0}])
        self.assertEqual(len((q1 | q2 | case_b.agency_payment_ids).move_id), 1)
        receivable = self._receivable(a_old).account_id
        self.assertRecordValues(
            q2.move_line_ids.sorted("id"),
            [
                {"account_id": receivable.id, "debit": 0.0, "credit": 100.0},
                {"account_id": receivable.id, "debit": 0.0, "credit": 200.0},
            ],
        )
        # what the agency owes, 1,800 less 75 + 45 + 150 of fees, on one item
        self.assertRecordValues(
            q2.move_id.line_ids.sorted("id")[:2],
            [
                {"account_id": self.clearing.id, "debit": 1530.0},
                {"account_id": self.fee_account.id, "debit": 270.0},
            ],
        )
        self.assertEqual(case_b.state, "closed_paid")
        notes = a_old.message_ids.filtered(lambda m: "collected by" in (m.body or ""))
        self.assertEqual(len(notes), 2)
        clearing = self.env["account.move.line"].search(
            [("account_id", "=", self.clearing.id), ("parent_state", "=", "posted")]
        )
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 1530.0)

    def test_payment_that_cannot_be_booked_is_rejected_alone(self):
        """The agency has no fee account: a payment it holds cannot be booked,
        its row is rejected with the reason; the payment made to the company
        directly, in the same batch, is recorded."""
        case, (invoice,) = self._submitted_case([1000.0])
        ref = case.creditor_reference
        self.agency.sudo().fee_account_id = False
        day = self._day()
        record = self._import(
            self._csv(
                f"{ref};paiement;{day};100,00;EUR;agence;;;;HELD",
                f"{ref};paiement;{day};250,00;EUR;créancier;;;;DIRECT",
            )
        )
        self.assertEqual(record.state, "partial")
        held, direct = record.line_ids.sorted("line_number")
        self.assertEqual((held.state, held.reason), ("rejected", "booking_error"))
        self.assertIn("Fee", held.detail)
        self.assertEqual(direct.state, "applied")
        self.assertRecordValues(
            case.agency_payment_ids,
            [{"agency_payment_id": "DIRECT", "state": "recorded"}],
        )
        self.assertEqual(invoice.amount_residual, 1000.0)
        self.assertEqual(case.amount_remaining, 750.0)

    def test_row_that_fails_is_rejected_alone_and_the_rest_applied(self):
        """A status row whose change fails (the fault injected) rolls its chunk
        back; the chunk is applied again row by row: that row is rejected with
        the reason, the rows around it (a payment included) are applied once."""
        case, (invoice,) = self._submitted_case([1000.0])
        other, (_other_invoice,) = self._submitted_case(
            [500.0], partner=self.customer_be
        )
        day = self._day()
        apply_case = type(case)._apply_agency_case

        def failing(records, change):
            if records == other:
                # a fault, not a message for a user
                raise UserError("Injected fault")  # pylint: disable=translation-required
            return apply_case(records, change)

        with patch.object(type(case), "_apply_agency_case", failing):
            record = self._import(
                self._csv(
                    f"{case.creditor_reference};statut;{day};;;;;actif;;",
                    f"{case.creditor_reference};paiement;{day};100,00;EUR;;;;;R1",
                    f"{other.creditor_reference};statut;{day};;;;;actif;;",
                )
            )
        self.assertEqual(
            [
                (line.line_number, line.state, line.reason, line.detail)
                for line in record.line_ids.sorted("line_number")
            ],
            [
                (2, "applied", False, False),
                (3, "applied", False, False),
                (4, "rejected", "booking_error", "Injected fault"),
            ],
        )
        self.assertEqual(case.state, "active")
        self.assertEqual(len(case.agency_payment_ids), 1)
        self.assertEqual(invoice.amount_residual, 900.0)
        self.assertEqual(other.state, "submitted")

    # ------------------------------------------------------------------
    # idempotence
    # ------------------------------------------------------------------
    def test_same_file_twice_changes_nothing(self):
        case, (invoice,) = self._submitted_case([1000.0])
        ref = case.creditor_reference
        data = self._csv(
            f"{ref};statut;{self._day()};;;;;en pause;;",
            f"{ref};paiement;{self._day()};400,00;EUR;;;;;P1",
        )
        self._import(data)
        moves = self.env["account.move"].search_count([])
        second = self._import(data)
        self.assertRecordValues(
            second,
            [{"state": "done", "count_applied": 0, "count_duplicate": 2}],
        )
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(len(case.agency_payment_ids), 1)
        self.assertEqual(invoice.amount_residual, 600.0)
        self.assertEqual(case.state, "paused")

    def test_overlapping_file_applies_only_the_new_rows(self):
        case, (invoice,) = self._submitted_case([1000.0])
        ref = case.creditor_reference
        day = self._day()
        first = f"{ref};paiement;{day};100,00;EUR;;;;;P1"
        second = f"{ref};paiement;{day};200,00;EUR;;;;;P2"
        third = f"{ref};paiement;{day};300,00;EUR;;;;;P3"
        self._import(self._csv(first, second))
        record = self._import(self._csv(second, third))
        self.assertEqual((record.count_applied, record.count_duplicate), (1, 1))
        self.assertEqual(
            sorted(case.agency_payment_ids.mapped("agency_payment_id")),
            ["P1", "P2", "P3"],
        )
        self.assertEqual(invoice.amount_residual, 400.0)

    def test_rows_without_ids_repeat_by_their_content(self):
        case, (invoice,) = self._submitted_case([1000.0])
        row = f"{case.creditor_reference};paiement;{self._day()};250,00;EUR;;;;;"
        self._import(self._csv(row))
        record = self._import(self._csv(row))
        self.assertEqual(record.count_duplicate, 1)
        self.assertEqual(invoice.amount_residual, 750.0)
