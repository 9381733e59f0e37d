from odoo import api, fields, models


class FollowupDisputeLine(models.Model):
    _name = "followup.dispute.line"
    _description = "Disputed Invoice"
    _check_company_auto = True

    dispute_id = fields.Many2one(
        "followup.dispute", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="dispute_id.company_id", store=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        check_company=True,
        domain="[('move_type', 'in', ('out_invoice', 'out_receipt')),"
        " ('state', '=', 'posted')]",
    )
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount = fields.Monetary(
        string="Disputed Amount",
        currency_field="currency_id",
        help="The part of the invoice's residual amount the customer disputes.",
    )
    amount_residual = fields.Monetary(
        related="move_id.amount_residual", currency_field="currency_id"
    )
    amount_company = fields.Monetary(
        compute="_compute_amount_company",
        store=True,
        currency_field="company_currency_id",
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )

    @api.depends("amount", "move_id.amount_total", "move_id.amount_total_signed")
    def _compute_amount_company(self):
        for line in self:
            total = line.move_id.amount_total
            ratio = abs(line.move_id.amount_total_signed) / total if total else 1.0
            line.amount_company = line.amount * ratio
