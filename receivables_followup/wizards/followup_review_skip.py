from odoo import _, fields, models
from odoo.exceptions import UserError


class FollowupReviewSkip(models.TransientModel):
    """Skip reminders waiting for review, saying why: skipping counts their
    level as reached, so the reason stays in their history and their invoices'."""

    _name = "followup.review.skip"
    _inherit = ["followup.review.wizard"]
    _description = "Skip a Reminder"

    reason = fields.Text(required=True)

    def action_confirm(self):
        """Skip the reminders for the reason given; close the wizard."""
        self.ensure_one()
        if not (self.reason or "").strip():
            raise UserError(_("Say why the reminder is skipped."))
        self._reviewed_actions()._review_skip(self.reason.strip())
        return {"type": "ir.actions.act_window_close"}
