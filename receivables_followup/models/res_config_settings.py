from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    followup_invoice_legal_amounts = fields.Boolean(
        related="company_id.followup_invoice_legal_amounts", readonly=False
    )
    followup_partial_dispute_escalates = fields.Boolean(
        related="company_id.followup_partial_dispute_escalates", readonly=False
    )
    followup_letter_window = fields.Selection(
        related="company_id.followup_letter_window", readonly=False
    )
    followup_tz = fields.Selection(related="company_id.followup_tz", readonly=False)
    followup_handoff_min_days = fields.Integer(
        related="company_id.followup_handoff_min_days", readonly=False
    )
