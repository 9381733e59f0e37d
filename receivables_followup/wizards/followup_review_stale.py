from markupsafe import Markup

from odoo import _, api, fields, models


class FollowupReviewStale(models.TransientModel):
    """Reminders whose invoices changed since they were prepared: show what
    changed, then send for the invoices still open or drop the reminders."""

    _name = "followup.review.stale"
    _inherit = ["followup.review.wizard"]
    _description = "Reminder Changed Since Review"

    changes = fields.Html(compute="_compute_changes", sanitize=True)
    can_send = fields.Boolean(compute="_compute_changes")

    @api.depends("history_ids")
    def _compute_changes(self):
        for wizard in self:
            changes = wizard.history_ids._review_changes()
            items = Markup("").join(
                Markup("<li>%s: %s — %s</li>")
                % (action.partner_id.display_name, move.name, change)
                for action, move, change in changes
            )
            wizard.changes = Markup("<ul>%s</ul>") % items
            changed = {(action.id, move.id) for action, move, _change in changes}
            wizard.can_send = any(
                (action.id, line.move_id.id) not in changed
                for action in wizard.history_ids
                for line in action.line_ids
            )

    def action_send(self):
        """Send the reminders for their invoices that are still open."""
        self.ensure_one()
        self._reviewed_actions()._review_send()
        return {"type": "ir.actions.act_window_close"}

    def action_drop(self):
        """Drop the reminders: the next run plans their invoices afresh."""
        self.ensure_one()
        self._reviewed_actions()._review_drop(
            _("Dropped: the invoices changed since the reminder was prepared.")
        )
        return {"type": "ir.actions.act_window_close"}
