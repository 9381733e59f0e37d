import logging

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools.pdf import PdfReadError

_logger = logging.getLogger(__name__)


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    @api.model
    def _render_followup_documents(self, report, res_ids):
        """Render ``report`` for many records in one wkhtmltopdf call, one document
        each: {res_id: (content, extension)}.

        wkhtmltopdf renders the batch as one PDF that Odoo splits by page or
        outline; the records it could not separate (a letter running over two
        pages) are rendered one by one. Without wkhtmltopdf, the documents are HTML.
        """
        if self.get_wkhtmltopdf_state() in ("install", "broken"):
            return {
                res_id: (self._render_qweb_html(report, [res_id])[0], "html")
                for res_id in res_ids
            }
        try:
            streams = self._render_qweb_pdf_prepare_streams(report, None, res_ids)
        except (PdfReadError, UserError) as error:
            # wkhtmltopdf returns an empty document for a batch when a resource
            # fails to load (e.g. web.base.url unreachable): render one by one.
            _logger.warning(
                "Batch rendering of %s documents failed: %s", len(res_ids), error
            )
            streams = {}
        contents = {
            res_id: (data["stream"].getvalue(), "pdf")
            for res_id, data in streams.items()
            if res_id and data.get("stream")
        }
        for res_id in res_ids:
            if res_id not in contents:
                stream = self._render_qweb_pdf_prepare_streams(report, None, [res_id])
                contents[res_id] = (stream[res_id]["stream"].getvalue(), "pdf")
        return contents
