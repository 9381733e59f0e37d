from odoo import _, api, fields, models
from odoo.exceptions import UserError


class FollowupExcludeWizard(models.TransientModel):
    """Exclude invoices from the follow-up, include them again, or record a
    customer's promise to pay."""

    _name = "followup.exclude.wizard"
    _description = "Follow-up Exclusion / Promise to Pay"

    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        domain=[("move_type", "in", ("out_invoice", "out_receipt"))],
    )
    mode = fields.Selection(
        [
            ("exclude", "Exclude from follow-up"),
            ("include", "Include again"),
            ("promise", "Promise to pay"),
        ],
        required=True,
        default="exclude",
    )
    reason = fields.Char(string="Exclusion Reason")
    promise_date = fields.Date(string="Promised Payment Date")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "account.move":
            values.setdefault(
                "move_ids",
                [fields.Command.set(self.env.context.get("active_ids") or [])],
            )
        return values

    def action_confirm(self):
        """Apply the choice to the invoices; return the window close action."""
        self.ensure_one()
        moves = self.move_ids.filtered(
            lambda move: move.move_type in ("out_invoice", "out_receipt")
        )
        if not moves:
            raise UserError(_("Select customer invoices."))
        if self.mode == "promise":
            if not self.promise_date:
                raise UserError(_("Enter the promised payment date."))
            moves._followup_register_promise(self.promise_date)
            return {"type": "ir.actions.act_window_close"}
        if self.mode == "exclude" and not (self.reason or "").strip():
            raise UserError(_("Give the reason of the exclusion."))
        # sudo: the exclusion fields change through this wizard only (follow-up
        # users, by its access rights); the note below logs who and why.
        moves.check_access("read")
        for company, company_moves in moves.grouped("company_id").items():
            if self.mode == "exclude":
                values = {
                    "followup_excluded": True,
                    "followup_exclusion_reason": self.reason.strip(),
                }
            else:
                # Resuming from today: the next level waits its gap instead of
                # firing the levels missed while the invoice was excluded.
                values = {
                    "followup_excluded": False,
                    "followup_exclusion_reason": False,
                    "followup_resume_date": company._followup_today(),
                }
            company_moves.sudo().write(values)
        if self.mode == "exclude":
            note = _(
                "Excluded from follow-up by %(user)s: %(reason)s",
                user=self.env.user.name,
                reason=self.reason.strip(),
            )
        else:
            note = _(
                "Included again in the follow-up by %(user)s.", user=self.env.user.name
            )
        moves.sudo()._followup_post_notes(dict.fromkeys(moves.ids, note))
        return {"type": "ir.actions.act_window_close"}
