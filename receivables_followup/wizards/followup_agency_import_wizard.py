import base64

from odoo import _, fields, models
from odoo.exceptions import UserError


class FollowupAgencyImportWizard(models.TransientModel):
    """Upload an agency's status and payment report, import it, open its
    report."""

    _name = "followup.agency.import.wizard"
    _description = "Import an Agency Report"

    agency_id = fields.Many2one("followup.agency", required=True)
    file = fields.Binary(required=True)
    filename = fields.Char()
    file_format = fields.Selection(
        [("auto", "Detect"), ("csv", "CSV"), ("xml", "XML")],
        string="Format",
        default="auto",
        required=True,
    )

    def action_import(self):
        self.ensure_one()
        self.agency_id._check_manager()
        if not self.file:
            raise UserError(_("Choose the agency's report file."))
        record = self.env["followup.agency.import"]._import_report(
            self.agency_id,
            base64.b64decode(self.file),
            self.filename or _("Agency report"),
            file_format=None if self.file_format == "auto" else self.file_format,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "followup.agency.import",
            "res_id": record.id,
            "view_mode": "form",
            "target": "current",
        }
