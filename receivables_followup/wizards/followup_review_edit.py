from odoo import api, fields, models


class FollowupReviewEdit(models.TransientModel):
    """Edit a reminder's email before sending it: the text starts as the
    template renders it for this customer and goes out as written."""

    _name = "followup.review.edit"
    _inherit = ["followup.review.wizard"]
    _description = "Edit and Send a Reminder"

    subject = fields.Char(required=True)
    body = fields.Html(sanitize_style=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        history_ids = self.env.context.get("default_history_ids") or []
        if len(history_ids) == 1:
            action = self.env["followup.history"].browse(history_ids)
            values.setdefault("subject", action.preview_subject)
            values.setdefault("body", action.preview_body)
        return values

    def action_send(self):
        """Send the reminder with the edited text; close the wizard."""
        self.ensure_one()
        action = self._reviewed_actions().ensure_one()
        action._review_send(messages={action.id: (self.subject, self.body)})
        return {"type": "ir.actions.act_window_close"}
