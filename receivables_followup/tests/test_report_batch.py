"""Many documents in one wkhtmltopdf call, split per record: Debian's
wkhtmltopdf takes one input document only."""

import io
import re
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from .common import FollowupCommon

INVOICE_REPORT = "account.account_invoices"


@tagged("post_install", "-at_install")
class TestReportBatch(FollowupCommon):
    def _render(self, invoices):
        """The invoices' documents rendered in one batch, and how many
        wkhtmltopdf processes rendered them."""
        Report = type(self.env["ir.actions.report"])
        run = Report._run_wkhtmltopdf
        with patch.object(
            Report, "_run_wkhtmltopdf", autospec=True, side_effect=run
        ) as calls:
            documents = (
                self.env["ir.actions.report"]
                .sudo()
                ._render_followup_documents(
                    INVOICE_REPORT, [invoice.id for invoice in invoices]
                )
            )
        return documents, calls.call_count

    def _pdf_text(self, document):
        content, extension = document
        self.assertEqual(extension, "pdf")
        return "".join(
            page.extract_text() for page in PdfFileReader(io.BytesIO(content)).pages
        )

    def test_invoices_rendered_in_one_call_and_split_per_invoice(self):
        Report = self.env["ir.actions.report"].sudo()
        if Report.get_wkhtmltopdf_state() in ("install", "broken"):
            self.fail("wkhtmltopdf is needed: the test command installs it")
        invoices = [
            self._create_invoice(partner, amount, "2025-01-01")
            for partner, amount in (
                (self.customer_fr, 100.0),
                (self.customer_be, 200.0),
                (self.customer_us, 300.0),
            )
        ]
        documents, processes = self._render(invoices)
        self.assertEqual(processes, 1)
        self.assertEqual(set(documents), {invoice.id for invoice in invoices})
        for invoice in invoices:
            text = self._pdf_text(documents[invoice.id])
            self.assertIn(invoice.name, text)
            others = [other.name for other in invoices if other != invoice]
            self.assertFalse([name for name in others if name in text], text)

    def test_large_batch_is_rendered_by_two_processes_at_once(self):
        invoices = [
            self._create_invoice(self.customer_fr, 100.0 + index, "2025-01-01")
            for index in range(8)
        ]
        documents, processes = self._render(invoices)
        self.assertEqual(processes, 2)
        self.assertEqual(set(documents), {invoice.id for invoice in invoices})
        for invoice in invoices:
            text = self._pdf_text(documents[invoice.id])
            # the invoice's own name, and no other invoice's
            names = set(re.findall(r"[A-Z]+/\d{4}/\d+", text))
            self.assertEqual(names, {invoice.name})
