from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date

#: days ahead a customer may promise to pay without a manager's approval, when the
#: policy does not say
DEFAULT_PROMISE_MAX_DAYS = 30


class FollowupMovePromise(models.AbstractModel):
    """Promises to pay on an invoice, inherited by ``account.move``: the
    horizon a customer may promise within, the checks, the recording (the
    pause, the check activity for the responsible, the tracked chatter line)."""

    _name = "followup.move.promise"
    _description = "Invoice Follow-up: Promises to Pay"

    def _followup_promise_horizon(self):
        """The latest date this invoice's customer may promise to pay by without a
        follow-up manager's approval (its policy's horizon from today)."""
        self.ensure_one()
        policy = self.commercial_partner_id._collection_policy(self.company_id)
        return self.company_id._followup_today() + timedelta(
            days=policy.promise_max_days or DEFAULT_PROMISE_MAX_DAYS
        )

    def _followup_register_promise(self, promise_date, author=None, user=None):
        """Record the customer's promise to pay these invoices by ``promise_date``.

        Each invoice is paused until that date (status 'paused: promise to pay'),
        and the customer's follow-up responsible gets one activity per invoice to
        check, on that day, that the payment came: a new promise replaces the
        previous one and closes its activity. The chatter logs the promised date
        as a tracked value, which every reader sees in their own language.

        Called from the customer portal (sudo, the customer as ``author``) and
        from the follow-up wizard (a follow-up user, the customer as ``author``).

        :param date promise_date: between today and the policy's horizon; later
            only when a follow-up manager records it
        :param author: res.partner who made the promise (by default, the user
            recording it)
        :param user: res.users recording it, whose rights decide on a promise
            beyond the horizon (by default the environment's: the portal passes
            its visitor, as it works on invoices as the superuser)
        :raise UserError: closed or disputed invoice, a date in the past, or beyond
            the horizon; nothing is written then
        """
        user = user or self.env.user
        is_manager = user.has_group("receivables_followup.group_followup_manager")
        author = author or user.partner_id
        for move in self:
            move._followup_check_promise(promise_date, is_manager)
        check_type = self.env.ref(
            "receivables_followup.mail_activity_type_promise_check"
        )
        # sudo: the promise and its activities are the engine's bookkeeping, open
        # to the customer and to follow-up users through this method only.
        for company, moves in self.sudo().grouped("company_id").items():
            self.env["followup.promise"].sudo()._record(
                moves, promise_date, company._followup_today()
            )
        for move in self.sudo():
            move._followup_apply_promise(promise_date, author, check_type)

    def _followup_apply_promise(self, promise_date, author, check_type):
        """Move this invoice's promise to ``promise_date``, checks done: the
        previous check activity closed, the date written and logged in the
        chatter, and a check scheduled on that day for its responsible.

        :param check_type: the activity type of the checks of a promise
        """
        self.ensure_one()
        previous = self.followup_promise_date
        self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == check_type
        ).action_feedback(feedback=_("Replaced by a new promise to pay."))
        self.with_context(tracking_disable=True).write(
            {"followup_promise_date": promise_date}
        )
        self._followup_log_promise(
            _("Promise to pay: the follow-up of this invoice waits until then."),
            previous,
            promise_date,
            author,
        )
        responsible = self.env["followup.dispute"]._default_responsible(
            self.commercial_partner_id, self
        )
        self.activity_schedule(
            "receivables_followup.mail_activity_type_promise_check",
            date_deadline=promise_date,
            user_id=responsible.id,
            summary=_(
                "Check the payment promised for %(date)s",
                date=format_date(
                    self.env(context={"lang": responsible.lang}), promise_date
                ),
            ),
        )

    def _followup_check_promise(self, promise_date, is_manager):
        self.ensure_one()
        if self.state != "posted" or self.payment_state not in ("not_paid", "partial"):
            raise UserError(
                _(
                    "%(invoice)s is already paid: there is nothing to promise.",
                    invoice=self.name,
                )
            )
        if self.followup_dispute_paused:
            raise UserError(
                _(
                    "%(invoice)s is disputed: its follow-up is already paused.",
                    invoice=self.name,
                )
            )
        if promise_date < self.company_id._followup_today():
            raise UserError(_("The promised payment date cannot be in the past."))
        horizon = self._followup_promise_horizon()
        if promise_date > horizon and not is_manager:
            raise UserError(
                _(
                    "A promise to pay after %(date)s needs the approval of a "
                    "follow-up manager.",
                    date=format_date(self.env, horizon),
                )
            )

    def _followup_log_promise(self, body, old_date, new_date, author=None):
        """Log ``body`` with the promised date's change as a tracked value."""
        self.ensure_one()
        tracking = self.env["mail.tracking.value"]._create_tracking_values(
            old_date,
            new_date,
            "followup_promise_date",
            {"type": "date", "string": self._fields["followup_promise_date"].string},
            self,
        )
        self._message_log(
            body=body,
            author_id=author.id if author else None,
            tracking_value_ids=[fields.Command.create(tracking)],
        )
