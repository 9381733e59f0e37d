"""Reminders that get paid: the links, bank details and SEPA QR code of the email
and the letter, the customer's statement page, and paying through Odoo's own
payment machinery (``payment_demo``) over real HTTP.

The QR codes are decoded from their images (zxing-cpp), not read from the
values that built them: what a banking app scans is what is checked.
"""

import io
import re
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from freezegun import freeze_time
from lxml import html as lxml_html
from PIL import Image

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import FollowupCommon

TODAY = "2025-03-10 10:00:00"
IBAN = "FR7630006000011234567890189"


def _decode_qr(png):
    """The text a banking app reads from the QR code image ``png``."""
    image = Image.open(io.BytesIO(png)).convert("L")
    results = zxingcpp.read_barcodes(image)
    if not results:
        raise AssertionError("No QR code in the image.")
    return results[0].text


def _page_image(pdf):
    """The first page of ``pdf`` as printed, at 150 dpi (poppler's pdftoppm,
    which the test command installs)."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory, "letter.pdf")
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "150",
                "-singlefile",
                source,
                source.with_suffix(""),
            ],
            check=True,
        )
        return source.with_suffix(".png").read_bytes()


def _qr_fields(payload):
    """The EPC069-12 fields of a SEPA credit transfer QR code, by name."""
    names = (
        "service",
        "version",
        "charset",
        "identification",
        "bic",
        "name",
        "iban",
        "amount",
        "purpose",
        "structured",
        "text",
        "information",
    )
    return dict(zip(names, payload.split("\n"), strict=False))


class FollowupPayCommon(FollowupCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        bank = cls.env["res.bank"].create({"name": "Crédit Test", "bic": "AGRIFRPP"})
        cls.company_bank = cls.env["res.partner.bank"].create(
            {
                "acc_number": "FR76 3000 6000 0112 3456 7890 189",
                "partner_id": cls.company.partner_id.id,
                "bank_id": bank.id,
                "company_id": cls.company.id,
            }
        )
        cls.provider = cls._enable_payment_demo(cls.company)
        cls.env["ir.module.module"]._load_module_terms(
            ["receivables_followup"], ["fr_FR"], overwrite=True
        )

    @classmethod
    def _enable_payment_demo(cls, company):
        """Odoo's demo payment provider, enabled in test mode for ``company``."""
        Provider = cls.env["payment.provider"].sudo()
        provider = Provider.search(
            [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
        ) or Provider.search([("code", "=", "demo")], limit=1).copy(
            {"company_id": company.id}
        )
        provider.write(
            {
                "state": "test",
                "is_published": True,
                "journal_id": cls.company_data["default_journal_bank"].id,
            }
        )
        return provider

    def _remind(self, today=TODAY):
        self._run_followup(today)
        return self._emails_to(self.customer_fr)

    def _links(self, body, css_class):
        tree = lxml_html.fromstring(str(body))
        return [
            element.get("href") or element.get("src")
            for element in tree.xpath(f"//*[contains(@class, '{css_class}')]")
        ]

    def _local(self, url):
        """The path and query of ``url``, to open on the test server."""
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path

    def _pay_all_route(self):
        return (
            f"/my/followup/transaction/{self.customer_fr.id}/{self.company.id}"
            f"/{self.eur.id}"
        )

    def _pay_with_demo(self, route, params):
        """Pay through Odoo's payment form's calls: create the transaction on
        ``route``, let the demo provider confirm it, and let the status page's
        poll post-process it (the payment and its reconciliation)."""
        method = self.env.ref("payment_demo.payment_method_demo")
        processing = self.make_jsonrpc_request(
            route,
            {
                "provider_id": self.provider.id,
                "payment_method_id": method.id,
                "token_id": None,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/my/followup",
                **params,
            },
        )
        self.make_jsonrpc_request(
            "/payment/demo/simulate_payment",
            {
                "reference": processing["reference"],
                "payment_details": "4242",
                "simulated_state": "done",
            },
        )
        transaction = self.env["payment.transaction"].search(
            [("reference", "=", processing["reference"])]
        )
        self.assertEqual(transaction.state, "done")
        transaction._post_process()
        self.env.invalidate_all()
        return transaction


@tagged("post_install", "-at_install")
class TestReminderPaymentContent(FollowupPayCommon):
    """The email and the letter carry what the customer needs to pay."""

    def test_email_links_each_invoice_the_statement_and_a_checked_qr_code(self):
        invoice = self._create_invoice(self.customer_fr, 1150.0, "2025-02-20")
        email = self._remind()
        self.assertEqual(len(email), 1)
        body = email.body_html

        pay_links = self._links(body, "o_followup_pay_link")
        self.assertEqual(
            pay_links,
            [
                f"{self.base_url()}/my/invoices/{invoice.id}"
                f"?access_token={invoice.access_token}"
            ],
        )
        self.assertTrue(invoice.access_token)
        statement = self._links(body, "o_followup_statement_link")
        self.assertEqual(len(statement), 1)
        query = parse_qs(urlsplit(statement[0]).query)
        self.assertEqual(query["partner_id"], [str(self.customer_fr.id)])
        self.assertEqual(query["company_id"], [str(self.company.id)])

        text = re.sub(r"\s+", " ", lxml_html.fromstring(str(body)).text_content())
        self.assertIn("FR76 3000 6000 0112 3456 7890 189", text)
        self.assertIn("AGRIFRPP", text)
        self.assertIn(invoice.payment_reference, text)

        [qr_url] = self._links(body, "o_followup_qr")
        response = self.url_open(self._local(qr_url))
        self.assertEqual(response.status_code, 200)
        qr = _qr_fields(_decode_qr(response.content))
        self.assertEqual(qr["service"], "BCD")
        self.assertEqual(qr["identification"], "SCT")
        self.assertEqual(qr["iban"], IBAN)
        self.assertEqual(qr["bic"], "AGRIFRPP")
        self.assertEqual(qr["amount"], "EUR1150.0")
        self.assertIn(invoice.payment_reference, qr["structured"] + qr["text"])

    def test_qr_code_claims_the_total_net_of_credits_for_several_invoices(self):
        first = self._create_invoice(self.customer_fr, 700.0, "2025-02-20")
        second = self._create_invoice(self.customer_fr, 500.0, "2025-02-25")
        self._create_credit_note(self.customer_fr, 200.0)
        email = self._remind()
        [qr_url] = self._links(email.body_html, "o_followup_qr")
        qr = _qr_fields(_decode_qr(self.url_open(self._local(qr_url)).content))
        self.assertEqual(qr["amount"], "EUR1000.0")
        # several invoices: their references, unstructured
        self.assertEqual(qr["structured"], "")
        self.assertIn(first.payment_reference, qr["text"])
        self.assertIn(second.payment_reference, qr["text"])

    def test_no_qr_code_for_a_currency_sepa_cannot_carry(self):
        self._create_invoice(self.customer_fr, 900.0, "2025-02-20", currency=self.usd)
        email = self._remind()
        self.assertFalse(self._links(email.body_html, "o_followup_qr"))
        # the transfer's details are still given
        self.assertIn("FR76 3000 6000 0112 3456 7890 189", str(email.body_html))

    def test_letter_prints_the_qr_code_and_the_statement_address(self):
        self.level_1.print_letter = True
        invoice = self._create_invoice(self.customer_fr, 1150.0, "2025-02-20")
        self._remind()
        action = self._history(self.customer_fr, state="done")
        report = self.env.ref("receivables_followup.action_report_followup_letter")
        html = self.env["ir.actions.report"]._render_qweb_html(report, action.ids)[0]
        tree = lxml_html.fromstring(html)
        [image] = tree.xpath("//img[contains(@class, 'o_followup_qr')]")
        # drawn in the letter: the PDF engine fetches nothing
        self.assertTrue(image.get("src").startswith("data:image/svg+xml;base64,"))
        # what a banking app reads from the printed page
        pdf = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report, action.ids)[0]
        )
        printed = _decode_qr(_page_image(pdf))
        qr = _qr_fields(printed)
        self.assertEqual(qr["iban"], IBAN)
        self.assertEqual(qr["amount"], "EUR1150.0")
        self.assertIn(invoice.payment_reference, qr["structured"] + qr["text"])
        # the same transfer as the email's code
        [payment] = action._followup_payments()
        self.assertEqual(
            printed, _decode_qr(self.url_open(self._local(payment["qr_url"])).content)
        )
        text = tree.text_content()
        # the links stay links in the PDF
        [statement] = tree.xpath("//a[contains(@class, 'o_followup_statement_link')]")
        self.assertIn("/my/followup?partner_id=", statement.get("href"))
        self.assertTrue(tree.xpath("//a[contains(@class, 'o_followup_pay_link')]"))
        self.assertIn("FR76 3000 6000 0112 3456 7890 189", text)
        # French customer, French letter
        self.assertIn("virement", text)


@tagged("post_install", "-at_install")
class TestReminderPayment(FollowupPayCommon):
    """Paying from the reminder with payment_demo pays the invoices the way
    Odoo does, and the follow-up stops."""

    def test_paying_the_invoice_from_its_link_stops_its_reminders(self):
        invoice = self._create_invoice(self.customer_fr, 1150.0, "2025-02-20")
        email = self._remind()
        [pay_link] = self._links(email.body_html, "o_followup_pay_link")
        page = self.url_open(self._local(pay_link))
        self.assertEqual(page.status_code, 200)
        self.assertIn("Pay Now", page.text)
        token = parse_qs(urlsplit(pay_link).query)["access_token"][0]
        self._pay_with_demo(
            f"/invoice/transaction/{invoice.id}",
            {"access_token": token, "amount": 1150.0},
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.followup_status, "paid")
        # the second level falls due: nothing more goes out
        later = fields.Datetime.to_datetime(TODAY) + timedelta(days=30)
        self._run_followup(later)
        self.assertEqual(len(self._emails_to(self.customer_fr)), 1)

    def test_paying_all_overdue_invoices_from_the_statement(self):
        first = self._create_invoice(self.customer_fr, 700.0, "2025-02-20")
        second = self._create_invoice(self.customer_fr, 500.0, "2025-02-25")
        not_due = self._create_invoice(self.customer_fr, 300.0, "2025-04-30")
        email = self._remind()
        [statement_link] = self._links(email.body_html, "o_followup_statement_link")
        with freeze_time(TODAY):
            page = self.url_open(self._local(statement_link))
        self.assertEqual(page.status_code, 200)
        tree = lxml_html.fromstring(page.text)
        [pay_all] = tree.xpath("//a[contains(@class, 'o_followup_pay_all')]/@href")
        with freeze_time(TODAY):
            pay_page = self.url_open(pay_all)
        self.assertEqual(pay_page.status_code, 200)
        self.assertIn("o_payment_form", pay_page.text)
        query = parse_qs(urlsplit(pay_all).query)
        route = self._pay_all_route()
        with freeze_time(TODAY):
            transaction = self._pay_with_demo(
                route, {"access_token": query["access_token"][0], "amount": 1200.0}
            )
        self.assertEqual(transaction.invoice_ids, first | second)
        for invoice in first | second:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(not_due.payment_state, "not_paid")

    def test_paying_all_refuses_a_wrong_amount_or_token(self):
        self._create_invoice(self.customer_fr, 700.0, "2025-02-20")
        self._remind()
        Statement = self.env["followup.statement"]
        token = Statement._token(self.customer_fr, self.company)
        route = self._pay_all_route()
        method = self.env.ref("payment_demo.payment_method_demo")
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": method.id,
            "token_id": None,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/my/followup",
        }
        Transaction = self.env["payment.transaction"]
        before = Transaction.search_count([])
        for wrong in (
            {"access_token": token, "amount": 1.0},
            {"access_token": token[:-2] + "00", "amount": 700.0},
            # what the form never sends cannot reach the transaction
            {"access_token": token, "amount": 700.0, "invoice_ids": [1]},
        ):
            with (
                freeze_time(TODAY),
                mute_logger("odoo.http"),
                self.assertRaises(JsonRpcException, msg=str(wrong)) as refused,
            ):
                self.make_jsonrpc_request(route, {**params, **wrong})
            self.assertIn("ValidationError", str(refused.exception))
        self.assertEqual(Transaction.search_count([]), before)


@tagged("post_install", "-at_install")
class TestStatementPage(FollowupPayCommon):
    """/my/followup: its owner's, a reminder's token link's, and no one
    else's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls.env["res.users"].create(
            {
                "name": "Claire Dupont",
                "login": "claire_portal",
                "password": "claire_portal_pw",
                "email": "claire@dupont.example",
                "lang": "fr_FR",
                "parent_id": cls.customer_fr.id,
                "groups_id": [
                    fields.Command.set([cls.env.ref("base.group_portal").id])
                ],
            }
        )
        cls.portal_user.partner_id.parent_id = cls.customer_fr
        cls.invoice = cls._create_invoice(cls.customer_fr, 1150.0, "2025-02-20")
        cls.other_invoice = cls._create_invoice(cls.customer_be, 990.0, "2025-02-20")

    def _statement(self, url):
        with freeze_time(TODAY):
            return self.url_open(url)

    def test_owner_sees_its_statement_with_every_action(self):
        self._remind()
        self.authenticate("claire_portal", "claire_portal_pw")
        page = self._statement("/my/followup")
        self.assertEqual(page.status_code, 200)
        tree = lxml_html.fromstring(page.text)
        rows = tree.xpath("//table[@id='followup_statement_invoices']/tbody/tr")
        self.assertEqual([row.get("data-invoice") for row in rows], [self.invoice.name])
        self.assertNotIn(self.other_invoice.name, page.text)
        self.assertTrue(
            tree.xpath("//a[contains(@class, 'o_followup_dispute_invoice')]")
        )
        self.assertTrue(
            tree.xpath("//a[contains(@class, 'o_followup_promise_invoice')]")
        )
        self.assertTrue(tree.xpath("//a[contains(@class, 'o_followup_pay_all')]"))
        sent = tree.xpath("//table[@id='followup_statement_sent']/tbody/tr")
        self.assertEqual(len(sent), 1)
        overdue = tree.xpath("//div[@id='followup_statement_overdue']")[
            0
        ].text_content()
        self.assertIn(
            "1 150,00",
            overdue.replace("\N{NO-BREAK SPACE}", " ").replace(
                "\N{NARROW NO-BREAK SPACE}", " "
            ),
        )
        # French customer: French page
        self.assertIn("Relevé", page.text)

    def test_owner_cannot_open_another_customers_statement(self):
        self.authenticate("claire_portal", "claire_portal_pw")
        page = self._statement(
            f"/my/followup?partner_id={self.customer_be.id}&company_id={self.company.id}"
        )
        self.assertEqual(page.status_code, 404)
        self.assertNotIn(self.other_invoice.name, page.text)

    def test_token_link_shows_the_statement_read_only_without_an_account(self):
        path = self.env["followup.statement"]._path(self.customer_fr, self.company)
        page = self._statement(path)
        self.assertEqual(page.status_code, 200)
        tree = lxml_html.fromstring(page.text)
        self.assertIn(self.invoice.name, page.text)
        self.assertFalse(
            tree.xpath("//a[contains(@class, 'o_followup_dispute_invoice')]")
        )
        self.assertTrue(tree.xpath("//p[@id='followup_statement_read_only']"))
        self.assertTrue(tree.xpath("//a[contains(@class, 'o_followup_pay_invoice')]"))
        pdf = self._statement(
            self.env["followup.statement"]._pdf_path(self.customer_fr, self.company)
        )
        self.assertEqual(pdf.status_code, 200)
        self.assertEqual(pdf.headers["Content-Type"], "application/pdf")
        # Odoo renders reports as HTML while it runs tests: the statement's
        # content is checked there
        self.assertIn(self.invoice.name, pdf.text)
        self.assertNotIn(self.other_invoice.name, pdf.text)

    def test_token_of_one_customer_opens_no_other(self):
        Statement = self.env["followup.statement"]
        token = Statement._token(self.customer_fr, self.company)
        for url in (
            f"/my/followup?partner_id={self.customer_be.id}"
            f"&company_id={self.company.id}&access_token={token}",
            f"/my/followup?partner_id={self.customer_fr.id}"
            f"&company_id={self.company.id}&access_token={token[:-1]}x",
            f"/my/followup/pdf?partner_id={self.customer_be.id}"
            f"&company_id={self.company.id}&access_token={token}",
            f"/my/followup/pay?partner_id={self.customer_be.id}"
            f"&company_id={self.company.id}&currency_id={self.eur.id}"
            f"&access_token={token}",
        ):
            page = self._statement(url)
            self.assertEqual(page.status_code, 404, url)
            self.assertNotIn(self.other_invoice.name, page.text)

    def test_visitor_without_token_is_sent_to_sign_in(self):
        page = self.url_open("/my/followup", allow_redirects=False)
        self.assertEqual(page.status_code, 303)
        self.assertIn("/web/login", page.headers["Location"])


@tagged("post_install", "-at_install")
class TestReminderPayTour(FollowupPayCommon):
    """In headless Chromium: from a reminder's statement link to a payment with
    payment_demo, without an account."""

    def test_customer_pays_from_the_reminder_in_a_browser(self):
        today = fields.Date.today()
        first = self._create_invoice(
            self.customer_fr, 700.0, today - timedelta(days=15)
        )
        second = self._create_invoice(
            self.customer_fr, 500.0, today - timedelta(days=12)
        )
        self._run_followup(fields.Datetime.now())
        [email] = self._emails_to(self.customer_fr)
        [statement_link] = self._links(email.body_html, "o_followup_statement_link")
        self.start_tour(self._local(statement_link), "receivables_followup_pay_tour")
        self.env.invalidate_all()
        for invoice in first | second:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        transaction = self.env["payment.transaction"].search(
            [("invoice_ids", "in", first.ids)]
        )
        self.assertEqual(transaction.state, "done")
        self.assertEqual(transaction.invoice_ids, first | second)


@tagged("post_install", "-at_install")
class TestStatementEmail(FollowupPayCommon):
    """E-mailing their statement to several customers at once."""

    def test_bulk_statement_email_lists_every_open_item(self):
        overdue = self._create_invoice(self.customer_fr, 1150.0, "2025-02-20")
        not_due = self._create_invoice(self.customer_fr, 300.0, "2025-04-30")
        self._create_unreconciled_payment(self.customer_fr, 100.0, date="2025-03-01")
        self._create_invoice(self.customer_be, 990.0, "2025-02-20")
        partners = self.customer_fr | self.customer_be
        with freeze_time(TODAY):
            wizard = (
                self.env["followup.statement.send"]
                .with_context(active_model="res.partner", active_ids=partners.ids)
                .create({"attach_invoices": True, "note": "As agreed on the phone."})
            )
            self.assertEqual(wizard.partner_ids, partners)
            wizard.action_send()
        message = self.customer_fr.message_ids.filtered(
            lambda m: m.message_type == "comment"
            and "votre relevé" in (m.subject or "")
        )
        self.assertEqual(len(message), 1, "French customer, French subject")
        text = re.sub(
            r"\s+", " ", lxml_html.fromstring(str(message.body)).text_content()
        )
        text = text.replace("\N{NO-BREAK SPACE}", " ").replace(
            "\N{NARROW NO-BREAK SPACE}", " "
        )
        self.assertIn(overdue.name, text)
        self.assertIn(not_due.name, text)
        self.assertIn("-100,00 €", text)
        self.assertIn("Solde : 1 350,00 €", text)
        self.assertIn("As agreed on the phone.", text)
        self.assertIn("/my/followup?partner_id=", str(message.body))
        names = sorted(message.attachment_ids.mapped("name"))
        self.assertEqual(len(names), 2, names)
        self.assertTrue(any(name.startswith("Relevé - Dupont SARL") for name in names))
        self.assertEqual(message.partner_ids, self.customer_fr)
        other = self.customer_be.message_ids.filtered(
            lambda m: m.message_type == "comment" and "statement" in (m.subject or "")
        )
        self.assertEqual(len(other), 1)

    def test_customer_without_email_is_named_not_skipped(self):
        self.customer_us.email = False
        wizard = self.env["followup.statement.send"].create(
            {
                "partner_ids": [
                    fields.Command.set((self.customer_fr | self.customer_us).ids)
                ]
            }
        )
        with self.assertRaisesRegex(UserError, "Boston Imports"):
            wizard.action_send()
        self.assertFalse(
            self.customer_fr.message_ids.filtered(lambda m: m.message_type == "comment")
        )
