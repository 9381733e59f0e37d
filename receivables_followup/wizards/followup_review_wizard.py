from odoo import _, fields, models
from odoo.exceptions import AccessError


class FollowupReviewWizard(models.AbstractModel):
    """What the review wizards (skip, postpone, changed reminders, edit) share:
    the reminders they act on, checked to be the user's own to see."""

    _name = "followup.review.wizard"
    _description = "Follow-up Review Wizard"

    history_ids = fields.Many2many("followup.history", string="Reminders")

    def _reviewed_actions(self):
        """The wizard's reminders; an error when there are none the user may
        see (Odoo drops the ones slipped in that the user may not read)."""
        self.ensure_one()
        actions = self.history_ids
        if not actions or actions != self.sudo().history_ids:
            raise AccessError(
                _("Select reminders of your companies that wait for review.")
            )
        return actions
