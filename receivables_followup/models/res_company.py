from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    followup_invoice_legal_amounts = fields.Boolean(
        string="Invoice Late-Payment Amounts",
        help="At a formal-notice level, prepare a draft invoice to the customer for "
        "the late-payment interest and the recovery indemnities.",
    )
    followup_partial_dispute_escalates = fields.Boolean(
        string="Undisputed Part Keeps Escalating",
        help="When only part of an invoice is disputed, the rest keeps escalating.",
    )
    followup_letter_report_id = fields.Many2one(
        "ir.actions.report",
        string="Follow-up Letter Layout",
        domain=[("model", "=", "followup.history")],
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # sudo: whoever may create a company gets its default follow-up policy,
        # even without the follow-up manager's right to create policies.
        self.env["followup.policy"].sudo()._create_default_policies(companies)
        return companies
