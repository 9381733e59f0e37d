from odoo import _, api, fields, models
from odoo.exceptions import UserError


class FollowupPartnerSettings(models.TransientModel):
    """Change who follows a customer up and how, in the current company, saying
    why: the follow-up users' way to set what a contact creator may not."""

    _name = "followup.partner.settings"
    _description = "Customer Follow-up Settings"

    partner_id = fields.Many2one("res.partner", required=True, readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Follow-up Responsible",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    policy_id = fields.Many2one(
        "followup.policy",
        string="Follow-up Policy",
        domain="[('company_id', '=', company_id)]",
    )
    no_auto = fields.Boolean(string="No Automatic Follow-up")
    reason = fields.Char(required=True, help="Logged in the customer's chatter.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        partner = self.env["res.partner"].browse(
            values.get("partner_id") or self.env.context.get("active_id")
        )
        if partner:
            # sudo: the current settings prefill the wizard of a follow-up user
            current = partner.commercial_partner_id.sudo().with_company(
                self.env.company
            )
            values.update(
                partner_id=current.id,
                user_id=current.collection_user_id.id,
                policy_id=current.collection_policy_id.id,
                no_auto=current.collection_no_auto,
            )
        return values

    def action_confirm(self):
        """Apply the settings to the customer in the company; log why."""
        self.ensure_one()
        if not (self.reason or "").strip():
            raise UserError(_("Say why the follow-up settings change."))
        partner = self.partner_id.commercial_partner_id
        partner.check_access("read")
        partner._followup_change_settings(
            self.company_id,
            {
                "collection_user_id": self.user_id.id,
                "collection_policy_id": self.policy_id.id,
                "collection_no_auto": self.no_auto,
            },
            _(
                "Follow-up settings in %(company)s changed by %(user)s: %(reason)s",
                company=self.company_id.name,
                user=self.env.user.name,
                reason=self.reason.strip(),
            ),
        )
        return {"type": "ir.actions.act_window_close"}
