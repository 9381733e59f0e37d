from odoo import _, api, fields, models
from odoo.exceptions import UserError


class FollowupPartnerAssign(models.TransientModel):
    """Make one person the follow-up responsible of many customers at once, in
    the current company, saying why (reminders then leave from that person)."""

    _name = "followup.partner.assign"
    _description = "Assign a Follow-up Responsible"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Follow-up Responsible",
        required=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    reason = fields.Char(required=True, help="Logged in each customer's chatter.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "partner_ids" in fields_list and not values.get("partner_ids"):
            partners = self.env["res.partner"].browse(
                self.env.context.get("active_ids") or []
            )
            values["partner_ids"] = [
                fields.Command.set(partners.commercial_partner_id.ids)
            ]
        return values

    def action_confirm(self):
        """Set the responsible of the customers in the company; log why on each."""
        self.ensure_one()
        if not (self.reason or "").strip():
            raise UserError(_("Say why the follow-up responsible changes."))
        partners = self.partner_ids.commercial_partner_id
        partners.check_access("read")
        if self.user_id.share or self.company_id not in self.user_id.company_ids:
            raise UserError(
                _(
                    "%(user)s is not an employee of %(company)s: reminders cannot "
                    "leave from them.",
                    user=self.user_id.name,
                    company=self.company_id.name,
                )
            )
        partners._followup_change_settings(
            self.company_id,
            {"collection_user_id": self.user_id.id},
            _(
                "Follow-up responsible in %(company)s set to %(responsible)s by "
                "%(user)s: %(reason)s",
                company=self.company_id.name,
                responsible=self.user_id.name,
                user=self.env.user.name,
                reason=self.reason.strip(),
            ),
        )
        return {"type": "ir.actions.act_window_close"}
