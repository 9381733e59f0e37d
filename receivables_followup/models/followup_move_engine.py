from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import format_date, formatLang

from ..services import status as followup_status
from ..services.formatting import ReminderFormatter
from ..services.levels import days_overdue


def _date_texts(days):
    """Dates (or None) as an array parameter of the engine's UPDATE statements."""
    return [str(day) if day else None for day in days]


class FollowupMoveEngine(models.AbstractModel):
    """The follow-up engine's side of an invoice, inherited by ``account.move``:
    the set-based SQL writes of the run and of the review (levels reached, next
    dates, postponements, manual decisions), limited to the acting user's
    companies, and the helpers the follow-up actions call on invoices (reminder
    lines, what changed since a reminder, chatter notes in bulk, the
    late-payment invoice). Nothing here is called by a user directly."""

    _name = "followup.move.engine"
    _description = "Invoice Follow-up: Engine Writes and Helpers"

    def _followup_company_guard(self, alias="m"):
        """SQL condition limiting the engine's raw writes to the invoices of the
        acting user's companies.

        The scheduled run (the superuser) works for every company; a person,
        even when the engine writes on their behalf with sudo, only ever changes
        invoices of the companies they belong to.
        """
        if self.env.uid == SUPERUSER_ID:
            return SQL("TRUE")
        return SQL(
            "%s.company_id = ANY(%s)",
            SQL.identifier(alias),
            list(self.env.user._get_company_ids()),
        )

    # ------------------------------------------------------------------
    # Engine writes: set-based SQL, because account.move.write() costs far too
    # much for a hundred thousand invoices and these columns trigger nothing but
    # the follow-up status, which is written alongside.
    # ------------------------------------------------------------------
    def _followup_write_next_dates(self, next_dates):
        """Store {move_id: date or None} as the invoices' next follow-up dates."""
        if not next_dates:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_next_date = v.next_date::date
                  FROM (SELECT unnest(%s::int[]) AS id,
                               unnest(%s::text[]) AS next_date) v
                 WHERE m.id = v.id
                   AND m.followup_next_date IS DISTINCT FROM v.next_date::date
                   AND %s
                """,
                list(next_dates),
                _date_texts(next_dates.values()),
                self._followup_company_guard(),
            )
        )
        self.browse(list(next_dates)).invalidate_recordset(["followup_next_date"])

    @api.model
    def _followup_mark_manual(self, next_dates):
        """Flag the invoices of {invoice id: next date} as waiting for a person's
        decision on the level due at that date."""
        if not next_dates:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_manual_pending = true,
                       followup_next_date = v.next_date::date,
                       followup_status = CASE WHEN m.followup_status IN %s
                                              THEN %s ELSE m.followup_status END
                  FROM (SELECT unnest(%s::int[]) AS id,
                               unnest(%s::text[]) AS next_date) v
                 WHERE m.id = v.id
                   AND %s
                """,
                followup_status.ESCALATING,
                followup_status.MANUAL,
                list(next_dates),
                _date_texts(next_dates.values()),
                self._followup_company_guard(),
            )
        )
        self.browse(list(next_dates)).invalidate_recordset(
            ["followup_manual_pending", "followup_status", "followup_next_date"]
        )

    def _followup_mark_performed(self, level, day, next_dates):
        """Record that ``level`` was performed on ``day`` for these invoices."""
        self._followup_mark_levels(dict.fromkeys(self.ids, level.id), day, next_dates)

    @api.model
    def _followup_mark_levels(self, levels, day, next_dates):
        """Record the levels performed on ``day``.

        :param dict levels: {invoice id: level id it reached}
        :param dict next_dates: {invoice id: date of its next level, or None}
        """
        if not levels:
            return
        move_ids = list(levels)
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_level_id = v.level_id,
                       followup_last_date = %s,
                       followup_resume_date = NULL,
                       followup_postponed_to = NULL,
                       followup_manual_pending = false,
                       followup_status = CASE WHEN m.followup_status = %s
                                              THEN %s ELSE m.followup_status END,
                       followup_next_date = v.next_date::date
                  FROM (SELECT unnest(%s::int[]) AS id,
                               unnest(%s::int[]) AS level_id,
                               unnest(%s::text[]) AS next_date) v
                 WHERE m.id = v.id
                   AND %s
                """,
                day,
                followup_status.MANUAL,
                followup_status.IN_FOLLOWUP,
                move_ids,
                [levels[move_id] or None for move_id in move_ids],
                _date_texts(next_dates.get(move_id) for move_id in move_ids),
                self._followup_company_guard(),
            )
        )
        self.browse(move_ids).invalidate_recordset(
            [
                "followup_level_id",
                "followup_last_date",
                "followup_resume_date",
                "followup_postponed_to",
                "followup_manual_pending",
                "followup_status",
                "followup_next_date",
            ]
        )

    def _followup_postpone(self, until):
        """Put the invoices' next level off until ``until``."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_postponed_to = %s, followup_next_date = %s
                 WHERE m.id = ANY(%s)
                   AND %s
                """,
                until,
                until,
                self.ids,
                self._followup_company_guard(),
            )
        )
        self.invalidate_recordset(["followup_postponed_to", "followup_next_date"])

    def _followup_release_manual(self):
        """A person decided (postpone): the invoices wait no longer."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET followup_manual_pending = false,
                       followup_status = CASE WHEN m.followup_status = %s
                                              THEN %s ELSE m.followup_status END
                 WHERE m.id = ANY(%s)
                   AND %s
                """,
                followup_status.MANUAL,
                followup_status.IN_FOLLOWUP,
                self.ids,
                self._followup_company_guard(),
            )
        )
        self.invalidate_recordset(["followup_manual_pending", "followup_status"])

    # ------------------------------------------------------------------
    # Engine helpers used by the follow-up actions
    # ------------------------------------------------------------------
    def _followup_display_lines(self, lang, on_date):
        """These invoices as reminder lines, in ``lang``, days late on ``on_date``.

        Amounts are in each invoice's own currency, as the customer knows them.
        """
        env = self.with_context(lang=lang).env
        formatter = ReminderFormatter.for_lang(env, lang)
        status_labels = dict(
            self._fields["followup_status"]._description_selection(env)
        )
        return [
            {
                "id": move.id,
                "name": move.name,
                "invoice_date": formatter.date(move.invoice_date),
                "due_date": formatter.date(move.invoice_date_due),
                "days_overdue": days_overdue(move.invoice_date_due, on_date),
                "payment_reference": move.payment_reference or move.name,
                "level": move.followup_level_id.with_env(env).name or "",
                "status": status_labels.get(move.followup_status, ""),
                "amount_due": formatter.amount(move.amount_residual, move.currency_id),
            }
            for move in self.sorted(lambda m: (m.invoice_date_due, m.name))
        ]

    def _followup_company_rate(self):
        """Company-currency units per unit of the invoice's currency, at the
        invoice's own booking rate."""
        self.ensure_one()
        if not self.amount_residual:
            return 1.0
        return self.amount_residual_signed / self.amount_residual

    def _followup_change_since(self, open_amount):
        """What became of this invoice since a reminder showed ``open_amount``
        open on it (invoice currency), as a text, or "" when nothing did."""
        self.ensure_one()
        if self.state != "posted" or self.payment_state not in ("not_paid", "partial"):
            return _("paid or reversed")
        status = self.followup_status
        if status == followup_status.PAUSED_DISPUTE:
            return _("disputed")
        if status == followup_status.PAUSED_PROMISE:
            return _(
                "promised to pay by %(date)s",
                date=format_date(self.env, self.followup_promise_date),
            )
        if status == followup_status.PAUSED_ANSWERED:
            return _(
                "the customer answered: on hold until %(date)s",
                date=format_date(self.env, self.followup_answered_until),
            )
        if status == followup_status.EXCLUDED:
            return _(
                "excluded from follow-up (%(reason)s)",
                reason=self.followup_exclusion_reason or "",
            )
        if status == followup_status.AT_AGENCY:
            return _("handed to a collection agency")
        open_now = self.amount_residual - self.followup_disputed_amount
        if self.currency_id.compare_amounts(open_now, open_amount) < 0:
            return _(
                "paid in part: %(amount)s still open",
                amount=formatLang(self.env, open_now, currency_obj=self.currency_id),
            )
        return ""

    @api.model
    def _followup_post_notes(self, text_by_move):
        """Post each text (plain, escaped here) as a note in its invoice's chatter.

        One INSERT for all the invoices: a run notes hundreds of thousands of
        invoices, and mail.message.create() costs a reply-to lookup and two HTML
        sanitisations per message for a body that is fixed, already escaped text.

        :param dict text_by_move: {invoice id: text}
        """
        if not text_by_move:
            return
        author = self.env.user.partner_id
        # the invoices of one reminder share their note: escaped once
        bodies = {
            text: str(Markup("<p>%s</p>") % text) for text in set(text_by_move.values())
        }
        self.env["mail.message"].flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            INSERT INTO mail_message (
                model, res_id, record_company_id, body, message_type, subtype_id,
                author_id, email_from, is_internal, date,
                create_uid, create_date, write_uid, write_date)
            SELECT 'account.move', m.id, m.company_id, v.body, 'notification',
                   %(subtype)s, %(author)s, %(email_from)s, false, %(now)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(ids)s::int[], %(bodies)s::text[]) AS v(id, body)
              JOIN account_move m ON m.id = v.id
            """,
            {
                "ids": list(text_by_move),
                "bodies": [bodies[text] for text in text_by_move.values()],
                "subtype": self.env.ref("mail.mt_note").id,
                "author": author.id,
                "email_from": author.email_formatted or None,
                "now": now,
                "uid": self.env.uid,
            },
        )
        self.browse(list(text_by_move)).invalidate_recordset(["message_ids"])

    @api.model
    def _followup_create_legal_invoice(
        self, partner, company, currency, interest, indemnity, origin=None
    ):
        """Draft invoice to ``partner`` of late-payment amounts in ``currency``
        (the currency of the invoices they were computed on), untaxed: they are
        damages, outside the VAT scope."""
        lines = []
        if interest:
            lines.append(
                fields.Command.create(
                    {
                        "name": _("Late-payment interest"),
                        "price_unit": interest,
                        "quantity": 1,
                        "tax_ids": [fields.Command.clear()],
                    }
                )
            )
        if indemnity:
            lines.append(
                fields.Command.create(
                    {
                        "name": _("Fixed recovery indemnity (EUR 40 per invoice)"),
                        "price_unit": indemnity,
                        "quantity": 1,
                        "tax_ids": [fields.Command.clear()],
                    }
                )
            )
        if not lines:
            return self.browse()
        return self.with_company(company).create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": currency.id,
                "invoice_origin": origin,
                "invoice_line_ids": lines,
            }
        )
