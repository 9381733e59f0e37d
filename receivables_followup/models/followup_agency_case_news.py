import logging

from psycopg2.errors import TransactionRollbackError

from odoo import _, api, models
from odoo.tools import format_amount

from ..services import agency_errors, agency_poll
from ..services.agency_errors import AgencyError
from ..services.debitura import const, payloads
from .followup_agency_case import (
    AGENCY_AMOUNTS,
    CHAT_ROLE_CREDITOR,
    CLOSED_STATES,
    DISPUTED_CLOSE_CODES,
    RETURNED_STATES,
)

_logger = logging.getLogger(__name__)

#: failures of the agency on one case: the case waits for the next poll
RETRIED = (agency_errors.TRANSIENT, agency_errors.RATE_LIMITED)


class FollowupAgencyCase(models.Model):
    """What an agency tells of its cases, applied through one code path: the
    answers to our requests, the status poll, the callbacks and the reports."""

    _inherit = "followup.agency.case"

    @api.model
    def _apply_agency_changes(self, agency, changes, payments_of=None, commit=False):
        """Apply the agency's view of its cases (``AgencyCase`` objects) to ours.

        A change older than the one a case last took is ignored, so that a late
        poll or a callback delivered out of order never moves a case backwards;
        a case we do not know is logged and skipped.

        :param payments_of: ``case -> [AgencyPayment]`` to bring each case's
            money in line first, or None
        :param commit: commit after each case (the scheduled poll)
        :returns: ``(newest, cases)``: the newest agency update time seen
            (naive UTC) or None, and the cases found
        """
        by_id, by_ref = self._agency_cases_of(agency, changes)
        stamps = [payloads.naive_utc(change.updated_at) for change in changes]
        held = []
        found = self.browse()
        for change, updated in zip(changes, stamps, strict=True):
            case = by_id.get(change.agency_id) or by_ref.get(change.creditor_reference)
            if not case:
                _logger.info(
                    "Agency %s reports case %s, unknown here",
                    agency.id,
                    change.agency_id,
                )
                continue
            if not case._take_agency_change(change, payments_of):
                held.append(updated)
                continue
            found |= case
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return agency_poll.next_cursor(stamps, held), found

    @api.model
    def _agency_cases_of(self, agency, changes):
        """The cases of ``agency`` the changes name, in one search:
        ``(by agency case id, by our reference)``."""
        ids = [change.agency_id for change in changes if change.agency_id]
        refs = [c.creditor_reference for c in changes if c.creditor_reference]
        cases = self.sudo().search(
            [
                ("agency_id", "=", agency.id),
                "|",
                ("agency_case_id", "in", ids),
                ("creditor_reference", "in", refs),
            ]
        )
        by_id = {case.agency_case_id: case for case in cases if case.agency_case_id}
        by_ref = {case.creditor_reference: case for case in cases}
        return by_id, by_ref

    def _take_agency_change(self, change, payments_of):
        """Apply one change to this case in a savepoint, its payments first
        when ``payments_of`` is given.

        :returns: False when the change is held for the next poll (the case
            is left as it was)
        """
        try:
            with self.env.cr.savepoint():
                if payments_of:
                    self._sync_agency_payments(payments_of(self))
                self._apply_agency_case(change)
        except AgencyError as error:
            if error.kind not in RETRIED:
                raise
            # the agency failed on this case only: the others are applied,
            # this one is read again by the next poll
            return False
        except TransactionRollbackError:
            # another worker changed the case meanwhile (its callback):
            # this transaction cannot see it, the next poll will
            return False
        return True

    @api.model
    def _find_agency_case(self, agency, agency_case_id, creditor_reference):
        """The case of ``agency`` known by the agency's id or our reference."""
        domain = [("agency_id", "=", agency.id)]
        if agency_case_id and creditor_reference:
            domain += [
                "|",
                ("agency_case_id", "=", agency_case_id),
                ("creditor_reference", "=", creditor_reference),
            ]
        elif agency_case_id:
            domain.append(("agency_case_id", "=", agency_case_id))
        else:
            domain.append(("creditor_reference", "=", creditor_reference))
        return self.sudo().search(domain, limit=1)

    def _sync_agency_payments(self, payments):
        """Bring the money the agency reports in line with the accounts: the
        agency's full list of payments of this case (see
        ``followup.agency.payment``)."""
        self.ensure_one()
        self.env["followup.agency.payment"].sudo()._sync_case_payments(self, payments)

    def _receive_agency_message(self, data):
        """A chat message of the collection firm: in the case's chatter, its
        responsible notified."""
        self.ensure_one()
        if data.get("role") == CHAT_ROLE_CREDITOR or (
            str(data.get("roleLabel") or "").lower() == "creditor"
        ):
            return  # our own message, sent from here
        author = data.get("roleLabel") or _("Collection firm")
        responsible = self.user_id or self.agency_id.responsible_id
        self.sudo().message_post(
            body=_(
                "%(author)s wrote: %(message)s",
                author=author,
                message=data.get("message") or "",
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=responsible.partner_id.ids,
        )

    def _apply_agency_case(self, change):
        self.ensure_one()
        updated = payloads.naive_utc(change.updated_at)
        if updated and self.agency_updated_at and updated < self.agency_updated_at:
            return False
        values = {
            "agency_case_id": change.agency_id or self.agency_case_id,
            "agency_reference": change.reference or self.agency_reference,
            "agency_lifecycle": change.lifecycle,
            "agency_close_code": change.close_code,
            "needs_info": change.needs_info,
            "agency_updated_at": updated or self.agency_updated_at,
        }
        for name in AGENCY_AMOUNTS:
            amount = getattr(change, name)
            if amount is not None:
                values[name] = amount
        if change.success_fee_rate is not None:
            values["success_fee_rate"] = change.success_fee_rate
        if change.exclusive_period_end:
            values["exclusive_period_end"] = change.exclusive_period_end
        state = change.state
        if state is None and self.state in (const.DRAFT, const.QUEUED):
            state = const.SUBMITTED
        if state and state != self.state and self.state not in RETURNED_STATES:
            values["state"] = state
        self.sudo().write(values)
        if values.get("state") in CLOSED_STATES:
            self._on_closed(change.close_code)
        if values.get("state") == const.NEEDS_DETAILS:
            missing = self.agency_id._agency_missing_details(self)
            self._schedule_activity(
                _("The collection firm needs more details on case %s", self.name),
                note="\n".join(missing) or None,
            )
        return True

    def _on_closed(self, close_code):
        """The agency closed the case: the invoices still owing come back to the
        follow-up run, and a person decides what next (nothing is written off
        by itself)."""
        owing = self._take_back_invoices()
        if not owing:
            return
        if close_code and payloads.close_code_name(close_code) in DISPUTED_CLOSE_CODES:
            self._dispute_owing(owing)
        elif self.state == const.CLOSED_UNCOLLECTABLE:
            self._ask_write_off(owing)
        else:
            self._schedule_activity(
                _("Invoices back from the collection agency (case %s)", self.name),
                note=_(
                    "%(count)s invoices still owe %(amount)s and are followed up "
                    "again.",
                    count=len(owing),
                    amount=self._owed_amount(owing),
                ),
            )

    def _take_back_invoices(self):
        """Take the case's invoices back from the agency: those settled quietly,
        those still owing with the follow-up resuming today and a note.

        :returns: the invoices still owing
        """
        owing = self.line_ids.move_id.filtered(
            lambda move: move.followup_at_agency
            and move.payment_state in ("not_paid", "partial")
        )
        settled = self.line_ids.move_id.filtered("followup_at_agency") - owing
        if settled:
            settled.sudo().write({"followup_at_agency": False})
        if not owing:
            return owing
        owing.sudo().write(
            {
                "followup_at_agency": False,
                "followup_resume_date": self.company_id._followup_today(),
            }
        )
        owing._message_log_batch(
            bodies=dict.fromkeys(
                owing.ids,
                _(
                    "Back from the collection agency (case %(case)s, %(code)s): "
                    "the follow-up resumes.",
                    case=self.name,
                    code=self.agency_close_code or self.state,
                ),
            )
        )
        return owing

    def _dispute_owing(self, owing):
        """The agency closed the case because the debtor disputes the claim:
        the invoices still owing are disputed here."""
        self.env["followup.dispute"].sudo()._open_dispute(
            self.partner_id,
            dict.fromkeys(owing),
            "other",
            description=_(
                "The collection agency closed case %(case)s: the debtor "
                "disputes the claim.",
                case=self.name,
            ),
            origin="agency",
        )

    def _ask_write_off(self, owing):
        """The agency gave up: the agency's responsible decides about the
        invoices still owing."""
        self._schedule_activity(
            _("Write off the invoices of case %s?", self.name),
            note=_(
                "The collection agency closed the case as uncollectable "
                "(%(code)s). %(count)s invoices still owe %(amount)s: decide "
                "whether to write them off, take legal action or keep "
                "following them up. Nothing is written off automatically.",
                code=self.agency_close_code or "?",
                count=len(owing),
                amount=self._owed_amount(owing),
            ),
            user=self.agency_id.responsible_id,
        )

    def _owed_amount(self, owing):
        """What the invoices ``owing`` still owe, formatted in the case's
        currency."""
        return format_amount(
            self.env, sum(owing.mapped("amount_residual")), self.currency_id
        )
