from odoo import api, models


class ReportFollowupReceivableAging(models.AbstractModel):
    """The values of the Aged Receivables PDF: one table per company, its
    customers' open receivables by age bucket, read from the aging view."""

    _name = "report.receivables_followup.report_followup_receivable_aging"
    _description = "Aged Receivables Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        """``docids``: the companies to report on; each gets its aged balance
        (see ``followup.receivable.aging._aged_by_customer``), read with the
        user's rights."""
        companies = self.env["res.company"].browse(docids)
        Aging = self.env["followup.receivable.aging"]
        return {
            "doc_ids": docids,
            "doc_model": "res.company",
            "docs": companies,
            "today": Aging._today(),
            "aging": {
                company.id: Aging._aged_by_customer(company) for company in companies
            },
        }
