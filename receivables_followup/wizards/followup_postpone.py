from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services.status import ESCALATING, MANUAL

CUSTOMER_INVOICE_TYPES = ("out_invoice", "out_receipt")


class FollowupPostpone(models.TransientModel):
    """Put the follow-up of many invoices off to a later date, from a list of
    invoices or of customers (their invoices in follow-up), saying why: the
    next level waits until that date."""

    _name = "followup.postpone"
    _description = "Postpone the Follow-up"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    date = fields.Date(string="Postpone Until", required=True)
    reason = fields.Char(required=True, help="Logged in each invoice's chatter.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "date" in fields_list and not values.get("date"):
            values["date"] = self.env.company._followup_today() + timedelta(days=7)
        if "move_ids" in fields_list and not values.get("move_ids"):
            values["move_ids"] = [fields.Command.set(self._active_invoices().ids)]
        return values

    def _active_invoices(self):
        """The invoices in follow-up among the selected invoices, or of the
        selected customers in the user's companies."""
        context = self.env.context
        ids = context.get("active_ids") or []
        domain = [
            ("move_type", "in", CUSTOMER_INVOICE_TYPES),
            ("state", "=", "posted"),
            ("followup_status", "in", (*ESCALATING, MANUAL)),
            ("company_id", "in", self.env.companies.ids),
        ]
        if context.get("active_model") == "res.partner":
            partners = self.env["res.partner"].browse(ids).commercial_partner_id
            domain.append(("commercial_partner_id", "in", partners.ids))
        elif context.get("active_model") == "account.move":
            domain.append(("id", "in", ids))
        else:
            return self.env["account.move"]
        return self.env["account.move"].search(domain)

    def action_confirm(self):
        """Postpone the invoices' next level; log why on each."""
        self.ensure_one()
        if not self.env.user.has_group("receivables_followup.group_followup_user"):
            raise UserError(_("Only follow-up users may postpone the follow-up."))
        if not (self.reason or "").strip():
            raise UserError(_("Say why the follow-up waits."))
        moves = self.move_ids
        # reading the field drops the invoices the user may not see: postponing
        # the rest would answer a success for invoices left untouched
        if (
            not moves
            or self.sudo().move_ids - moves
            or moves.company_id - self.env.user.company_ids
        ):
            raise UserError(_("Choose invoices of your companies."))
        moves.check_access("read")
        for company in moves.company_id:
            if self.date <= company._followup_today():
                raise UserError(_("Postpone to a date after today."))
        # sudo: the follow-up's own fields change through this action only,
        # which logs who did it and why
        moves.sudo()._followup_postpone(self.date)
        note = _(
            "Follow-up postponed to %(date)s by %(user)s: %(reason)s",
            date=fields.Date.to_string(self.date),
            user=self.env.user.name,
            reason=self.reason.strip(),
        )
        self.env["account.move"].sudo()._followup_post_notes(
            dict.fromkeys(moves.ids, note)
        )
        return {"type": "ir.actions.act_window_close"}
