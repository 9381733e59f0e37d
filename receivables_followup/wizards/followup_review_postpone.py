from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError


class FollowupReviewPostpone(models.TransientModel):
    """Put reminders waiting for review off to a later date: the level is proposed
    for review again on that date."""

    _name = "followup.review.postpone"
    _description = "Postpone a Reminder"

    history_ids = fields.Many2many("followup.history", string="Reminders")
    date = fields.Date(
        string="Postpone Until",
        required=True,
        default=lambda self: fields.Date.context_today(self) + timedelta(days=7),
    )

    def action_confirm(self):
        """Postpone the reminders to the wizard's date; close the wizard."""
        self.ensure_one()
        actions = self.history_ids
        actions._check_reviewable()
        if self.date <= fields.Date.context_today(self):
            raise UserError(_("Postpone to a date after today."))
        moves = actions.move_ids
        moves._followup_release_manual()
        moves._followup_postpone(self.date)
        actions.write(
            {
                "state": "postponed",
                "postponed_to": self.date,
                "user_id": self.env.user.id,
                "origin": "manual",
            }
        )
        return {"type": "ir.actions.act_window_close"}
