from odoo import api, fields, models

from ..services import dispute as rules


class FollowupDisputeResolve(models.TransientModel):
    """Close a dispute: by credit note, by correction, or by rejecting it."""

    _name = "followup.dispute.resolve"
    _description = "Resolve a Dispute"

    dispute_id = fields.Many2one("followup.dispute", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="dispute_id.partner_id")
    company_id = fields.Many2one(related="dispute_id.company_id")
    currency_id = fields.Many2one(related="dispute_id.dispute_currency_id")
    amount_disputed = fields.Monetary(related="dispute_id.amount_disputed_currency")
    resolution = fields.Selection(
        [
            (rules.CREDIT_NOTE, "Credit note for the disputed amount"),
            (rules.CORRECTION, "Corrected otherwise"),
            (rules.REJECTED, "Reject the dispute"),
        ],
        required=True,
        default=rules.CREDIT_NOTE,
    )
    credit_note_mode = fields.Selection(
        [
            ("create", "Create the credit note"),
            ("existing", "Use existing credit notes"),
        ],
        default="create",
        required=True,
    )
    credit_note_ids = fields.Many2many(
        "account.move",
        string="Credit Notes",
        domain="[('move_type', '=', 'out_refund'), ('state', '=', 'posted'),"
        " ('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id)]",
    )
    rejection_reason = fields.Text(
        help="Sent to the customer with the rejection.",
    )
    allow_difference = fields.Boolean(
        string="Confirm the Difference",
        help="The credit notes exceed the disputed amount: the excess stays the "
        "customer's credit.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if not values.get("dispute_id") and self.env.context.get("active_model") == (
            "followup.dispute"
        ):
            values["dispute_id"] = self.env.context.get("active_id")
        return values

    def action_confirm(self):
        self.ensure_one()
        dispute = self.dispute_id
        if self.resolution == rules.REJECTED:
            dispute.action_reject(self.rejection_reason)
        elif self.resolution == rules.CORRECTION:
            dispute.action_resolve_correction()
        elif self.credit_note_mode == "create":
            dispute.action_resolve_credit_note()
        else:
            dispute.action_resolve_credit_note(
                credit_notes=self.credit_note_ids,
                allow_difference=self.allow_difference,
            )
        return {"type": "ir.actions.act_window_close"}
