from datetime import timedelta

from odoo import fields, models


class FollowupReviewPostpone(models.TransientModel):
    _name = "followup.review.postpone"
    _description = "Postpone a Reminder"

    history_ids = fields.Many2many("followup.history", string="Reminders")
    date = fields.Date(
        string="Postpone Until",
        required=True,
        default=lambda self: fields.Date.context_today(self) + timedelta(days=7),
    )

    def action_confirm(self):
        self.history_ids._postpone(self.date)
        return {"type": "ir.actions.act_window_close"}
