import io
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor

import lxml.html

from odoo import api, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module
from odoo.tools.pdf import PdfFileReader, PdfFileWriter, PdfReadError

_logger = logging.getLogger(__name__)

#: a batch of at least this many records is rendered by two wkhtmltopdf
#: processes at once, on two cores
PARALLEL_MIN_RECORDS = 8
#: records per wkhtmltopdf process: each process waits Odoo's print delay (1 s)
#: for the page's scripts, so fewer, larger chunks print faster (bench/letters,
#: 300 letters: 8.6 letters/s by 20, 10.2 by 32, 10.8 by 64); a batch of up to
#: 128 makes one chunk per engine, the second rendered while the first prints
RECORDS_PER_ENGINE = 64
#: the text that starts each record's first page in a batch, to split the PDF
_MARKER = "RFDOC{}RF"
_MARKER_FOUND = re.compile(r"RFDOC(\d+)RF")
#: a font wkhtmltopdf embeds as text (the report's web fonts may come out as
#: shapes, which no text extraction reads)
_MARKER_STYLE = (
    "font-family:'DejaVu Sans',sans-serif !important;font-size:2px;"
    "line-height:2px;color:#ffffff;"
)


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    @api.model
    def _render_followup_documents(self, report, res_ids):
        """Render ``report`` for many records in one wkhtmltopdf call, one document
        each: {res_id: (content, extension)}.

        Debian's wkhtmltopdf is built against an unpatched Qt, which takes one
        input document only (Odoo gives it one per record) and writes no
        outline (Odoo splits a batch by it): the records' pages are rendered as
        one document, each record starting on a new page with an invisible
        marker, and the PDF is split where the markers are. Records the split
        cannot place are rendered one by one. Without wkhtmltopdf, the
        documents are HTML.
        """
        if self.get_wkhtmltopdf_state() in ("install", "broken"):
            return {
                res_id: (self._render_qweb_html(report, [res_id])[0], "html")
                for res_id in res_ids
            }
        contents = {}
        if len(res_ids) > 1:
            try:
                contents = self._render_followup_batch(report, res_ids)
            except (PdfReadError, UserError, ValueError) as error:
                _logger.warning(
                    "Batch rendering of %s documents failed: %s", len(res_ids), error
                )
        for res_id in res_ids:
            if res_id not in contents:
                stream = self._render_qweb_pdf_prepare_streams(report, None, [res_id])
                contents[res_id] = (stream[res_id]["stream"].getvalue(), "pdf")
        return contents

    @api.model
    def _render_followup_batch(self, report, res_ids):
        """wkhtmltopdf calls for ``res_ids``, each split per record:
        {res_id: (pdf, "pdf")} for the records found in the results.

        The records are rendered in chunks, each chunk's HTML by this process
        and its PDF by a wkhtmltopdf process, two at once on two cores: the
        engines print a chunk while the HTML of the next one is rendered, and
        each one's delay for the page's scripts passes while the others work.
        A chunk that fails leaves its records to be rendered one by one.
        """
        report_sudo = self._get_report(report).with_context(force_report_rendering=True)
        engines, chunk_size = _chunk_plan(len(res_ids), os.cpu_count() or 1)
        documents = {}
        executor = (
            _PrintNow()
            if odoo_module.current_test
            else ThreadPoolExecutor(max_workers=engines)
        )
        with executor:
            printing = []
            for start in range(0, len(res_ids), chunk_size):
                chunk = res_ids[start : start + chunk_size]
                document, options = report_sudo._followup_chunk_document(report, chunk)
                printing.append(
                    executor.submit(
                        self._print_followup_chunk,
                        document,
                        self.env.uid,
                        self.env.context,
                        self.env.su,
                        report_ref=report,
                        **options,
                    )
                )
            for future in printing:
                try:
                    documents.update(future.result())
                except (PdfReadError, UserError, ValueError) as error:
                    _logger.warning("A chunk of a batch failed: %s", error)
        return documents

    def _followup_chunk_document(self, report, res_ids):
        """The HTML of ``report`` for the records ``res_ids`` as one document
        for wkhtmltopdf, and the options to print it with.

        :raise ValueError: the report's pages do not say which record they are
        """
        html = self._render_qweb_html(report, res_ids)[0]
        bodies, html_ids, header, footer, paper_args = self._prepare_html(
            html, report_model=self.model
        )
        if not bodies or None in html_ids:
            raise ValueError("the report's pages do not name their records")
        options = {
            "header": header,
            "footer": footer,
            "specific_paperformat_args": paper_args,
        }
        return _one_document(bodies, html_ids), options

    @api.model
    def _print_followup_chunk(self, document, uid, context, su, **options):
        """Print one chunk's ``document`` with wkhtmltopdf and split the PDF
        per record: {res_id: (pdf, "pdf")}.

        Runs in a thread of the batch's executor: outside tests it prints
        with a cursor of its own, for ``uid`` with ``context`` and ``su``
        taken in the caller's thread, never with the caller's cursor.
        """
        if odoo_module.current_test:
            # a test serves every cursor from its own, under one lock: its
            # documents are printed at once, in its thread and cursor
            pdf = self._run_wkhtmltopdf([document], **options)
        else:
            with self.pool.cursor() as cr:
                env = api.Environment(cr, uid, context, su=su)
                pdf = env["ir.actions.report"]._run_wkhtmltopdf([document], **options)
        return _split_by_marker(pdf)


class _PrintNow:
    """An executor that runs what it is given at once, in this thread."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def submit(self, function, *args, **kwargs):
        future = Future()
        try:
            future.set_result(function(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - raised by the future's result()
            future.set_exception(error)
        return future


def _chunk_plan(record_count, cpu_count):
    """(engines, records per chunk) to print ``record_count`` records: two
    wkhtmltopdf processes from ``PARALLEL_MIN_RECORDS`` records on more than
    one core, and at least one chunk per engine, of at most about
    ``RECORDS_PER_ENGINE`` records."""
    engines = 1
    if record_count >= PARALLEL_MIN_RECORDS and cpu_count > 1:
        engines = 2
    chunk_count = max(engines, math.ceil(record_count / RECORDS_PER_ENGINE))
    return engines, math.ceil(record_count / chunk_count)


def _one_document(bodies, res_ids):
    """The records' bodies as one HTML document, each record on new pages and
    its first page marked with its id."""
    documents = [lxml.html.document_fromstring(body) for body in bodies]
    main = documents[0].body
    for index, (document, res_id) in enumerate(zip(documents, res_ids, strict=True)):
        marker = lxml.html.Element("div")
        marker.text = _MARKER.format(res_id)
        marker.set(
            "style", _MARKER_STYLE + ("page-break-before:always;" if index else "")
        )
        if index == 0:
            main.insert(0, marker)
            continue
        main.append(marker)
        for child in list(document.body):
            main.append(child)
    return lxml.html.tostring(
        documents[0], encoding="unicode", doctype="<!DOCTYPE html>"
    )


def _split_by_marker(pdf):
    """{res_id: (pdf, "pdf")}: each page goes to the record whose marker was
    seen last; the pages before the first marker make the split fail."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    texts = _page_texts(pdf) or [page.extract_text() or "" for page in reader.pages]
    if len(texts) != len(reader.pages):
        raise ValueError("the batch's pages and texts do not match")
    pages_by_id = {}
    current = None
    for page, text in zip(reader.pages, texts, strict=True):
        found = _MARKER_FOUND.findall(re.sub(r"\s+", "", text))
        if found:
            current = int(found[0])
        if current is None:
            raise ValueError("a batch page belongs to no record")
        pages_by_id.setdefault(current, []).append(page)
    documents = {}
    for res_id, pages in pages_by_id.items():
        writer = PdfFileWriter()
        for page in pages:
            writer.addPage(page)
        buffer = io.BytesIO()
        writer.write(buffer)
        documents[res_id] = (buffer.getvalue(), "pdf")
    return documents


def _page_texts(pdf):
    """The text of each page, read by poppler's ``pdftotext`` when it is
    installed: PyPDF2 parses the content of styled pages a hundred times
    slower (137 of the 160 s of 8 batches of invoices); None without it."""
    command = shutil.which("pdftotext")
    if not command:
        return None
    with tempfile.NamedTemporaryFile(suffix=".pdf") as source:
        source.write(pdf)
        source.flush()
        try:
            result = subprocess.run(
                [command, "-q", "-enc", "UTF-8", source.name, "-"],
                capture_output=True,
                check=True,
                timeout=120,
            )
        except (OSError, subprocess.SubprocessError) as error:
            _logger.warning("pdftotext could not read a batch: %s", error)
            return None
    # a form feed ends each page
    return result.stdout.decode("utf-8", "replace").split("\f")[:-1]
