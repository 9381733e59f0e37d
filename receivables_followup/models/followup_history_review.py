from odoo import _, models
from odoo.exceptions import AccessError, UserError


class FollowupHistoryReview(models.AbstractModel):
    """Reminders waiting for a person: send (as prepared or edited), skip with a
    reason, or postpone.

    Credit controllers never write actions directly (their access is read-only):
    each button checks who asks and what the reminder has become since it was
    planned, then the engine writes, as the engine, on the controller's behalf.
    """

    _name = "followup.history.review"
    _description = "Follow-up Action: Review"

    def _check_reviewable(self):
        if not self.env.user.has_group("receivables_followup.group_followup_user"):
            raise AccessError(_("Only follow-up users can review reminders."))
        # the caller must be allowed to see every reminder it acts on, and a
        # reminder only ever acts on invoices of its own company
        self.check_access("read")
        if any(
            action.line_ids.move_id.company_id - action.company_id for action in self
        ):
            raise AccessError(_("A reminder can only act on its company's invoices."))
        if any(action.state != "to_review" for action in self):
            raise UserError(
                _(
                    "Only reminders waiting for review can be sent, skipped "
                    "or postponed."
                )
            )

    def _review_changes(self):
        """What became of the reminders' invoices since they were planned.

        :returns: list of (action, invoice, what changed) for the invoices paid,
            disputed, promised, excluded or handed off since
        """
        changes = []
        for action in self:
            lang_env = action.with_context(lang=self.env.lang).env
            for line in action.line_ids:
                change = line.move_id.with_env(lang_env)._followup_change_since(
                    line.amount_residual
                )
                if change:
                    changes.append((action, line.move_id, change))
        return changes

    def _set_review_day(self):
        """Date the reminders the day a person decides: each invoice's last
        follow-up date is the date of its action."""
        for company, actions in self.grouped("company_id").items():
            actions.write({"date": company._followup_today()})

    def action_review_send(self):
        """Send the reminders; when their invoices changed since planning, say
        what changed and let the controller send for the rest or drop them."""
        self._check_reviewable()
        if self._review_changes():
            return self._review_wizard("followup.review.stale", _("What Changed"))
        self._review_send()
        return True

    def _review_send(self, messages=None):
        """Perform the reminders now, as the controller asking.

        :param messages: {action id: (subject, body)} replacing the template's
        """
        self._check_reviewable()
        for action in self:
            if (
                action.level_id.print_letter
                and action._followup_letter_address_missing()
            ):
                raise UserError(
                    _(
                        "The letter to %(customer)s cannot be posted: it has no "
                        "postal address. Add one, or skip the reminder.",
                        customer=action._followup_postal_partner().display_name,
                    )
                )
        # sudo: the engine performs on the controller's behalf (checked above);
        # the controller stays the author and the user who performed it.
        actions = self.sudo()
        actions._set_review_day()
        actions.write({"state": "pending"})
        actions._perform(origin="manual", messages=messages)

    def _review_drop(self, reason):
        """Drop the reminders without counting their level: their invoices are
        planned again by the next run, from what they have become."""
        self._check_reviewable()
        actions = self.sudo()
        actions.line_ids.move_id._followup_release_manual()
        actions.write(
            {
                "state": "skipped",
                "user_id": self.env.user.id,
                "origin": "manual",
                "note": reason,
            }
        )

    def action_review_skip(self):
        """Ask why the reminders are skipped (skipping counts their level)."""
        self._check_reviewable()
        return self._review_wizard("followup.review.skip", _("Skip Reminder"))

    def _review_skip(self, reason):
        """Skip the reminders: nothing is sent, the invoices are considered at
        their level, and the next level follows at the policy's pace."""
        self._check_reviewable()
        actions = self.sudo()
        actions._set_review_day()
        actions._mark_invoices_performed()
        note = self.env._("Follow-up level %(level)s skipped by %(user)s: %(reason)s")
        actions.env["account.move"]._followup_post_notes(
            {
                line.move_id.id: note
                % {
                    "level": (line.level_id or action.level_id).name,
                    "user": self.env.user.name,
                    "reason": reason,
                }
                for action in actions
                for line in action.line_ids
            }
        )
        actions.write(
            {
                "state": "skipped",
                "user_id": self.env.user.id,
                "origin": "manual",
                "note": reason,
            }
        )

    def action_review_postpone(self):
        self._check_reviewable()
        return self._review_wizard("followup.review.postpone", _("Postpone Reminder"))

    def action_review_edit(self):
        """Open the reminder's message, as it would go out, for editing."""
        self.ensure_one()
        self._check_reviewable()
        if not self._followup_email_template():
            raise UserError(_("This level sends no email: there is no text to edit."))
        changes = self._review_changes()
        if changes:
            raise UserError(
                _(
                    "The invoices of this reminder changed since it was prepared "
                    "(%(changes)s): send or drop it first.",
                    changes="; ".join(
                        f"{move.name}: {change}" for _action, move, change in changes
                    ),
                )
            )
        return self._review_wizard("followup.review.edit", _("Edit and Send"))

    def _review_wizard(self, model, title):
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": model,
            "view_mode": "form",
            "target": "new",
            "context": {"default_history_ids": self.ids},
        }

    def action_open_handoff_wizard(self):
        """From a level that proposes a hand-off: the hand-off wizard for the
        reminder's invoices still unpaid."""
        # first: called over RPC on the abstract model, it has no fields to read
        self.check_access("read")
        moves = self.move_ids.filtered(
            lambda m: m.payment_state in ("not_paid", "partial")
        )
        if not moves:
            raise UserError(_("The invoices of this reminder are paid."))
        return self.env["followup.handoff.wizard"]._open_for(moves)
