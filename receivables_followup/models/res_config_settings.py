from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    followup_invoice_legal_amounts = fields.Boolean(
        related="company_id.followup_invoice_legal_amounts", readonly=False
    )
    followup_partial_dispute_escalates = fields.Boolean(
        related="company_id.followup_partial_dispute_escalates", readonly=False
    )
