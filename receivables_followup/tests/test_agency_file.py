"""The agencies without an API: a hand-off becomes a case file (XML valid against
``schemas/case_file.xsd``, zipped with the invoice PDFs), attached to the case and
e-mailed to the agency; a file that breaks the schema is never offered."""

import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

from lxml import etree

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import BaseCase, tagged

from ..services import case_file
from .common_handoff import HandoffCommon

NS = {"cf": case_file.NAMESPACE}
AGENCY_EMAIL = "cases@recouvrement-dupuis.example"


@tagged("post_install", "-at_install")
class TestAgencyCaseFile(HandoffCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.file_agency = cls.env["followup.agency"].create(
            {
                "name": "Recouvrement Dupuis",
                "code": "file",
                "sequence": 1,  # the hand-off wizard proposes it first
                "company_id": cls.company.id,
                "is_test": False,
                "default_fee_rate": 12.0,
                "send_documents": True,
                "file_email": AGENCY_EMAIL,
                "file_send_email": True,
            }
        )
        cls.company.write({"vat": "FR23334175221", "street": "3 quai Perrache"})
        cls.customer_fr.write({"vat": "FR40303265045", "phone": "+33 4 72 00 00 00"})

    def _two_invoices(self):
        first = self._overdue_invoice(self.customer_fr, 1200.0, days_late=120)
        second = self._overdue_invoice(self.customer_fr, 800.0, days_late=60)
        self._register_payment(second, 300.0)
        return first, second

    def _formal_notice(self, invoice, day, interest, indemnity):
        """A formal notice performed on ``day`` that claimed these amounts."""
        history = (
            self.env["followup.history"]
            .sudo()
            .create(
                {
                    "company_id": self.company.id,
                    "partner_id": invoice.partner_id.id,
                    "level_id": self.level_3.id,
                    "date": day,
                    "state": "done",
                    "legal_regime": "fr",
                    "interest_amount": interest,
                    "indemnity_amount": indemnity,
                    "line_ids": [
                        Command.create(
                            {
                                "move_id": invoice.id,
                                "currency_id": invoice.currency_id.id,
                                "date_due": invoice.invoice_date_due,
                                "interest_amount": interest,
                                "indemnity_amount": indemnity,
                            }
                        )
                    ],
                }
            )
        )
        return history

    def _hand_off_and_send(self, moves):
        case = self._hand_off(moves, send_transfer_notice=False)
        self.assertEqual(case.agency_id, self.file_agency)
        self._send_outbox()
        return case

    def _open_zip(self, case):
        archive = zipfile.ZipFile(io.BytesIO(case.case_file_id.raw))
        return {name: archive.read(name) for name in archive.namelist()}

    def _agency_emails(self):
        return self.env["mail.mail"].search([("email_to", "=", AGENCY_EMAIL)])

    # ------------------------------------------------------------------
    def test_hand_off_produces_a_valid_case_file_equal_to_the_case(self):
        first, second = self._two_invoices()
        self._formal_notice(first, self.today - timedelta(days=70), 150.0, 30.0)
        self._formal_notice(first, self.today - timedelta(days=20), 212.33, 40.0)

        case = self._hand_off(first | second, send_transfer_notice=False)

        self.assertEqual(
            case.request_ids.mapped("kind"),
            ["create"],
            "no upload requests: the PDFs travel in the zip",
        )
        self.assertFalse(case.case_file_id)
        self._send_outbox()

        self.assertEqual(case.state, "submitted")
        self.assertEqual(case.request_ids.state, "done")
        attachment = case.case_file_id
        self.assertEqual(attachment.res_model, "followup.agency.case")
        self.assertEqual(attachment.res_id, case.id)
        self.assertEqual(attachment.mimetype, "application/zip")
        files = self._open_zip(case)
        xml_name = f"{case.creditor_reference}.xml"
        self.assertEqual(len(files), 3, list(files))
        self.assertIn(xml_name, files)
        pdfs = {name: content for name, content in files.items() if name != xml_name}
        self.assertTrue(all(name.endswith(".pdf") for name in pdfs))
        self.assertTrue(all(content.startswith(b"%PDF") for content in pdfs.values()))

        root = etree.fromstring(files[xml_name])
        case_file.validate(root)  # raises when the file breaks the schema
        self.assertEqual(
            root.findtext("cf:Header/cf:CreditorReference", namespaces=NS),
            case.creditor_reference,
        )
        self.assertEqual(
            root.findtext("cf:Creditor/cf:VAT", namespaces=NS), "FR23334175221"
        )
        self.assertEqual(
            root.findtext("cf:Debtor/cf:Name", namespaces=NS), "Dupont SARL"
        )
        self.assertEqual(root.findtext("cf:Debtor/cf:Type", namespaces=NS), "company")
        self.assertEqual(
            root.findtext("cf:Debtor/cf:VAT", namespaces=NS), "FR40303265045"
        )
        self.assertEqual(
            root.findtext("cf:Debtor/cf:Address/cf:Country", namespaces=NS), "FR"
        )
        lines = root.findall("cf:Claim/cf:Lines/cf:Line", namespaces=NS)
        expected = case.line_ids.sorted(lambda line: (line.due_date, line.id))
        self.assertEqual(len(lines), 2)
        for element, line in zip(lines, expected, strict=True):
            move = line.move_id
            self.assertEqual(
                element.findtext("cf:InvoiceNumber", namespaces=NS), move.name
            )
            self.assertEqual(
                element.findtext("cf:InvoiceDate", namespaces=NS),
                str(move.invoice_date),
            )
            self.assertEqual(
                element.findtext("cf:DueDate", namespaces=NS), str(line.due_date)
            )
            self.assertEqual(element.findtext("cf:Currency", namespaces=NS), "EUR")
            self.assertEqual(
                Decimal(element.findtext("cf:AmountOutstanding", namespaces=NS)),
                Decimal(str(line.amount_handed)).quantize(Decimal("0.01")),
            )
            self.assertEqual(
                Decimal(element.findtext("cf:OriginalAmount", namespaces=NS)),
                Decimal(str(move.amount_total)).quantize(Decimal("0.01")),
            )
            document = element.findtext("cf:Document", namespaces=NS)
            self.assertIn(document, pdfs, "each line names its PDF in the zip")
        amounts = [
            element.findtext("cf:AmountOutstanding", namespaces=NS) for element in lines
        ]
        self.assertEqual(amounts, ["1200.00", "500.00"])
        # the last formal notice's amounts, on the invoice that had one
        notice = lines[0].find("cf:FormalNotice", namespaces=NS)
        self.assertEqual(
            notice.findtext("cf:LatePaymentInterest", namespaces=NS), "212.33"
        )
        self.assertEqual(
            notice.findtext("cf:RecoveryIndemnity", namespaces=NS), "40.00"
        )
        self.assertEqual(notice.findtext("cf:LegalBasis", namespaces=NS), "fr")
        self.assertIsNone(lines[1].find("cf:FormalNotice", namespaces=NS))
        totals = root.find("cf:Claim/cf:Totals", namespaces=NS)
        self.assertEqual(
            Decimal(totals.findtext("cf:AmountOutstanding", namespaces=NS)),
            Decimal(str(case.amount_handed)).quantize(Decimal("0.01")),
        )
        self.assertEqual(totals.findtext("cf:OriginalAmount", namespaces=NS), "2000.00")
        self.assertEqual(totals.findtext("cf:TotalClaimed", namespaces=NS), "1952.33")

    def test_case_file_is_emailed_to_the_agency_with_the_zip(self):
        first, second = self._two_invoices()
        case = self._hand_off_and_send(first | second)

        email = self._agency_emails()
        self.assertEqual(len(email), 1)
        self.assertEqual(email.attachment_ids, case.case_file_id)
        self.assertEqual(email.model, "followup.agency.case")
        self.assertEqual(email.res_id, case.id)
        self.assertIn(case.creditor_reference, email.subject)
        self.assertTrue(
            case.message_ids.filtered(lambda m: AGENCY_EMAIL in (m.body or "")),
            "the chatter says where the file went",
        )

    def test_messages_and_withdrawal_go_by_email(self):
        case = self._hand_off_and_send(self._overdue_invoice(self.customer_fr, 900.0))
        self.assertEqual(case.agency_case_id, case.creditor_reference)
        case.action_request_withdrawal()
        self._send_outbox()
        request = case.request_ids.filtered(lambda r: r.kind == "message")
        self.assertEqual(request.state, "done")
        emails = self._agency_emails().filtered(lambda m: "message" in m.subject)
        self.assertEqual(len(emails), 1)
        self.assertIn("withdraw", emails.body_html)
        self.assertTrue(case.withdrawal_requested)

    def test_from_hand_off_to_a_report_closing_the_case_paid(self):
        """The file agency's whole cycle: case file out, its CSV report in.
        1,200 + 500 outstanding, all collected, the agency states a 204.00
        commission (12 %): clearing balance 1,700 - 204 = 1,496."""
        self.file_agency.write(
            {
                "clearing_account_id": self.clearing.id,
                "fee_account_id": self.fee_account.id,
                "agency_partner_id": self.agency_partner.id,
            }
        )
        first, second = self._two_invoices()
        case = self._hand_off_and_send(first | second)
        self.assertEqual(case.state, "submitted")
        ref, day = case.creditor_reference, self.today.strftime("%d/%m/%Y")
        report = (
            "Référence;Référence agence;Type;Date;Montant;Devise;Bénéficiaire;"
            "Commission;Statut;Motif de clôture;ID paiement\n"
            f"{ref};DUP-2026-117;statut;{day};;;;;actif;;\n"
            f"{ref};DUP-2026-117;paiement;{day};1 700,00;EUR;agence;204,00;;;P-1\n"
            f"{ref};DUP-2026-117;clôture;{day};;;;;;payé;\n"
        ).encode()

        imported = self.env["followup.agency.import"]._import_report(
            self.file_agency, report, "dupuis-2026-12.csv"
        )

        self.assertEqual(imported.state, "done")
        self.assertEqual(case.agency_reference, "DUP-2026-117")
        self.assertEqual(case.state, "closed_paid")
        for invoice in first | second:
            self.assertEqual(invoice.payment_state, "paid")
            self.assertFalse(invoice.followup_at_agency)
        clearing = self.env["account.move.line"].search(
            [("account_id", "=", self.clearing.id), ("parent_state", "=", "posted")]
        )
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 1496.0)

    def test_no_email_unless_the_agency_wants_it(self):
        self.file_agency.file_send_email = False
        case = self._hand_off_and_send(self._overdue_invoice(self.customer_fr, 900.0))

        self.assertEqual(case.state, "submitted")
        self.assertTrue(case.case_file_id)
        self.assertFalse(self._agency_emails())

    def test_without_documents_the_zip_holds_the_xml_only(self):
        self.file_agency.send_documents = False
        case = self._hand_off_and_send(self._overdue_invoice(self.customer_fr, 900.0))

        files = self._open_zip(case)
        self.assertEqual(list(files), [f"{case.creditor_reference}.xml"])
        root = etree.fromstring(files[f"{case.creditor_reference}.xml"])
        self.assertIsNone(root.find(".//cf:Document", namespaces=NS))

    def test_a_file_that_breaks_the_schema_is_not_offered(self):
        case = self._hand_off(
            self._overdue_invoice(self.customer_fr, 900.0), send_transfer_notice=False
        )
        case.line_ids.sudo().write({"amount_handed": -5.0})

        self._send_outbox()

        request = case.request_ids
        self.assertEqual(request.state, "failed")
        self.assertIn("does not follow its schema", request.last_error)
        self.assertIn("AmountOutstanding", request.last_error)
        self.assertEqual(case.state, "queued")
        self.assertFalse(case.case_file_id)
        self.assertFalse(
            self.env["ir.attachment"].search(
                [("res_model", "=", case._name), ("res_id", "=", case.id)]
            )
        )
        self.assertFalse(self._agency_emails())

    def test_download_button_gives_the_zip(self):
        case = self._hand_off_and_send(self._overdue_invoice(self.customer_fr, 900.0))
        action = case.action_download_case_file()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(f"/web/content/{case.case_file_id.id}", action["url"])

    def test_preview_is_computed_here(self):
        wizard = self._wizard(self._overdue_invoice(self.customer_fr, 1000.0))

        self.assertEqual(wizard.agency_id, self.file_agency)
        self.assertFalse(wizard.preview_message)
        case = wizard.case_ids
        self.assertTrue(case.previewed)
        self.assertTrue(case.eligible)
        self.assertFalse(case.assigned_firm)
        self.assertEqual(case.fee_rate, 12.0)
        self.assertAlmostEqual(case.fee_amount, 120.0)
        self.assertFalse(self.sandbox.request_log("POST", "/cases/preview"))

    def test_no_connection_to_test_no_poll(self):
        with self.assertRaisesRegex(UserError, "no connection to test"):
            self.file_agency.action_test_connection()
        self.assertFalse(self.file_agency._agency_is_connected())

    def test_sending_by_email_needs_the_address(self):
        with self.assertRaises(ValidationError):
            self.file_agency.file_email = False

    def test_debitura_still_uploads_the_pdfs_apart(self):
        self.file_agency.active = False
        self.agency.send_documents = True
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)

        case = self._hand_off(invoice, send_transfer_notice=False)

        self.assertEqual(case.agency_id, self.agency)
        self.assertEqual(sorted(case.request_ids.mapped("kind")), ["create", "upload"])


@tagged("post_install", "-at_install")
class TestCaseFileSchema(BaseCase):
    """The plain function: values in, a document valid against the XSD out."""

    def _case_file(self, **changes):
        values = {
            "created": datetime(2026, 3, 2, 9, 30),
            "creditor_reference": "RF-abcd1234-7",
            "software": "Odoo 18.0 receivables_followup",
            "creditor": case_file.Party(
                name="Lyon Conseil & Fils",
                address=case_file.Address("FR", street="3 quai Perrache", city="Lyon"),
                vat="FR23334175221",
                email="ar@company.example",
            ),
            "debtor": case_file.Party(
                name="Dupont <SARL>",
                address=case_file.Address("fr", zip="69002", city="Lyon"),
                contact_name="Marie Dupont",
            ),
            "currency": "EUR",
            "handed_on": date(2026, 3, 2),
            "lines": [
                case_file.Line(
                    "INV/2025/00012",
                    date(2025, 10, 1),
                    date(2025, 10, 31),
                    "EUR",
                    1200,
                    1200,
                    case_file.FormalNotice(date(2026, 1, 5), "fr", 41.5, 40),
                    "INV_2025_00012.pdf",
                ),
                case_file.Line(
                    "INV/2025/00020",
                    date(2025, 11, 1),
                    date(2025, 12, 1),
                    "EUR",
                    800,
                    500.005,
                ),
            ],
        }
        values.update(changes)
        return case_file.CaseFile(**values)

    def test_valid_values_give_a_valid_document(self):
        root = etree.fromstring(case_file.render(self._case_file()))
        case_file.validate(root)
        self.assertEqual(
            root.findtext("cf:Debtor/cf:Name", namespaces=NS), "Dupont <SARL>"
        )
        totals = root.find("cf:Claim/cf:Totals", namespaces=NS)
        self.assertEqual(
            totals.findtext("cf:AmountOutstanding", namespaces=NS), "1700.01"
        )
        self.assertEqual(totals.findtext("cf:TotalClaimed", namespaces=NS), "1781.51")

    def test_negative_amount_is_refused(self):
        line = case_file.Line(
            "INV/1", date(2025, 1, 1), date(2025, 2, 1), "EUR", 100, -5
        )
        with self.assertRaises(case_file.CaseFileError) as caught:
            case_file.render(self._case_file(lines=[line]))
        self.assertIn("Line[1]/AmountOutstanding", str(caught.exception))
        self.assertIn("-5.00", str(caught.exception))

    def test_missing_debtor_name_is_refused(self):
        debtor = case_file.Party(name="  ", address=case_file.Address("FR"))
        with self.assertRaises(case_file.CaseFileError) as caught:
            case_file.render(self._case_file(debtor=debtor))
        self.assertIn("CaseFile/Debtor", str(caught.exception))
        self.assertIn("Expected is ( Name )", str(caught.exception))

    def test_currency_must_be_iso_4217(self):
        with self.assertRaises(case_file.CaseFileError) as caught:
            case_file.render(self._case_file(currency="EURO"))
        self.assertIn("Claim/Currency", str(caught.exception))

    def test_claim_without_lines_is_refused(self):
        with self.assertRaises(case_file.CaseFileError):
            case_file.render(self._case_file(lines=[]))

    def test_document_names_stay_in_the_zip_root_and_distinct(self):
        first = case_file.document_name("../INV/2025/1", "pdf")
        self.assertEqual(first, "INV_2025_1.pdf")
        self.assertEqual(
            case_file.document_name("INV/2025/1", "pdf", taken={first}),
            "INV_2025_1_2.pdf",
        )
