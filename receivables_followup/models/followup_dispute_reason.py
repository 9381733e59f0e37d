from odoo import fields, models


class FollowupDisputeReason(models.Model):
    _name = "followup.dispute.reason"
    _inherit = ["followup.shared.config"]
    _description = "Dispute Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="Stable code other systems (e.g. an agency) refer to.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty for a reason every company offers.",
    )
    portal_visible = fields.Boolean(
        string="Offered on the Portal",
        default=True,
        help="Customers can choose this reason when they dispute an invoice online.",
    )

    _sql_constraints = [
        ("code_uniq", "unique(code)", "A dispute reason code must be unique."),
    ]
