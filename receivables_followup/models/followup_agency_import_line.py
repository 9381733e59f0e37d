from odoo import fields, models

from ..services import agency_report
from .followup_agency_import import APPLIED, DUPLICATE, OUTDATED, REASONS, REJECTED


class FollowupAgencyImportLine(models.Model):
    """One row of an imported agency report and what became of it.

    A row's identity is applied at most once per agency: a partial unique
    index over the applied lines makes a second import of the same row a
    duplicate, even when two imports run at the same time.
    """

    _name = "followup.agency.import.line"
    _description = "Agency Report Row"
    _order = "import_id desc, line_number, id"

    import_id = fields.Many2one(
        "followup.agency.import", required=True, ondelete="cascade", index=True
    )
    agency_id = fields.Many2one("followup.agency", required=True, readonly=True)
    line_number = fields.Integer(string="Line", readonly=True)
    identity = fields.Char(readonly=True, required=True)
    kind = fields.Selection(
        [
            (agency_report.STATUS, "Status Change"),
            (agency_report.PAYMENT, "Payment Collected"),
            (agency_report.REVERSAL, "Payment Reversed"),
            (agency_report.CLOSING, "Closing"),
        ],
        string="Type",
        readonly=True,
    )
    reference = fields.Char(string="Case Reference", readonly=True)
    case_id = fields.Many2one("followup.agency.case", readonly=True)
    state = fields.Selection(
        [
            (APPLIED, "Applied"),
            (DUPLICATE, "Already Imported"),
            (OUTDATED, "Older News"),
            (REJECTED, "Rejected"),
        ],
        required=True,
        readonly=True,
    )
    reason = fields.Selection(REASONS, readonly=True)
    field_name = fields.Char(string="Field", readonly=True)
    detail = fields.Char(readonly=True)

    def init(self):
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS
                   followup_agency_import_line_applied_identity_uniq
                ON followup_agency_import_line (agency_id, identity)
             WHERE state = 'applied'"""
        )
