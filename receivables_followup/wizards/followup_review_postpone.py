from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class FollowupReviewPostpone(models.TransientModel):
    """Put reminders waiting for review off to a later date: the level is proposed
    for review again on that date."""

    _name = "followup.review.postpone"
    _inherit = ["followup.review.wizard"]
    _description = "Postpone a Reminder"

    date = fields.Date(string="Postpone Until", required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "date" in fields_list and not values.get("date"):
            values["date"] = self.env.company._followup_today() + timedelta(days=7)
        return values

    def action_confirm(self):
        """Postpone the reminders to the wizard's date; close the wizard."""
        self.ensure_one()
        actions = self._reviewed_actions()
        actions._check_reviewable()
        for company in actions.company_id:
            if self.date <= company._followup_today():
                raise UserError(_("Postpone to a date after today."))
        # sudo: the engine writes the reminders and their invoices' follow-up
        # dates on the controller's behalf (checked by _check_reviewable).
        actions = actions.sudo()
        moves = actions.line_ids.move_id
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
