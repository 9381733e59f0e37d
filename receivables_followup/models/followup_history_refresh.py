from odoo import _, models

from ..services import closed_lines
from ..services.status import PAUSED


class FollowupHistoryRefresh(models.AbstractModel):
    """Just before performing: what is still open. Invoices paid or paused
    since planning leave the action, partly paid ones are claimed for what is
    open now, and formal notices get their late-payment amounts again."""

    _name = "followup.history.refresh"
    _description = "Follow-up Action: Checks Before Performing"

    def _drop_closed_invoices(self):
        """Drop from these actions the invoices paid or paused since planning,
        bring the lines of partly paid ones to what is still open, and return the
        actions left with an open invoice.

        An action left with none is skipped and keeps its lines, which say what
        it was about. A few statements find and fix the lines concerned: reading
        every invoice of a batch through the ORM would cost more than the check
        is worth.
        """
        lines = closed_lines.sort_lines(self._line_open_rows())
        emptied = self.browse(lines.emptied)
        # sudo: lines are the engine's, nobody may delete them (a person sending
        # a reminder now performs it too)
        self.env["followup.history.line"].browse(lines.dropped_line_ids).sudo().unlink()
        remaining = self - emptied
        self._cap_claimed_amounts(lines.trimmed | remaining._refresh_open_amounts())
        emptied.write(
            {
                "state": "skipped",
                "note": _(
                    "The invoices were paid or paused before the reminder went out."
                ),
            }
        )
        return remaining

    def _line_open_rows(self):
        """(action id, line id, whether its invoice is still open and not
        paused) of these actions' lines."""
        self.env["account.move"].flush_model(
            [
                "payment_state",
                "followup_status",
                "amount_residual",
                "amount_residual_signed",
                "followup_disputed_amount",
            ]
        )
        self.env["followup.history.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT l.history_id, l.id,
                   m.payment_state IN ('not_paid', 'partial')
                   AND m.followup_status NOT IN %s
              FROM followup_history_line l
              JOIN account_move m ON m.id = l.move_id
             WHERE l.history_id = ANY(%s)
            """,
            [PAUSED, self.ids],
        )
        return self.env.cr.fetchall()

    def _cap_claimed_amounts(self, action_ids):
        """Claim no more than what is still open on the remaining invoices of
        the actions ``action_ids``, whose lines changed."""
        if action_ids:
            self.env["followup.history.line"].invalidate_model()
            self.invalidate_recordset(["line_ids", "move_ids"])
        for action in self.browse(sorted(action_ids)):
            action.amount_claimed = min(
                action.amount_claimed,
                sum(action.line_ids.mapped("amount_claimed_company")),
            )

    def _refresh_open_amounts(self):
        """Bring the lines of invoices paid in part since planning to what is
        open now (the credits deducted never exceed it); return their actions."""
        self.env.cr.execute(
            """
            WITH open_now AS (
                SELECT m.id,
                       m.amount_residual - COALESCE(m.followup_disputed_amount, 0)
                           AS amount,
                       CASE WHEN m.amount_residual <> 0
                            THEN m.amount_residual_signed / m.amount_residual
                            ELSE 1 END AS rate,
                       cur.decimal_places AS places
                  FROM account_move m
                  JOIN followup_history_line l ON l.move_id = m.id
                  JOIN res_company c ON c.id = m.company_id
                  JOIN res_currency cur ON cur.id = c.currency_id
                 WHERE l.history_id = ANY(%(ids)s)
            )
            UPDATE followup_history_line l
               SET amount_residual = o.amount,
                   amount_credit = LEAST(l.amount_credit, o.amount),
                   amount_claimed = o.amount - LEAST(l.amount_credit, o.amount),
                   amount_claimed_company = ROUND(
                       (o.amount - LEAST(l.amount_credit, o.amount)) * o.rate, o.places)
              FROM open_now o
             WHERE l.history_id = ANY(%(ids)s)
               AND o.id = l.move_id
               AND o.amount <> l.amount_residual
            RETURNING l.history_id
            """,
            {"ids": self.ids},
        )
        return {history_id for (history_id,) in self.env.cr.fetchall()}

    def _compute_legal_amounts(self):
        """Compute again the late-payment amounts of formal notices, on what is
        open on each invoice on the action's date."""
        formal = self.filtered(
            lambda action: action.level_id.is_formal_notice and action.legal_regime
        )
        cache = {}
        for action in formal:
            regime, per_line, interest, indemnity = self._legal_amounts_of_lines(
                action.company_id,
                action.date,
                action.legal_regime,
                [
                    (
                        line.currency_id.id,
                        line.amount_residual,
                        line.amount_residual * line.move_id._followup_company_rate(),
                        line.date_due,
                    )
                    for line in action.line_ids
                ],
                cache,
            )
            action.line_ids._write_legal_amounts(per_line)
            action.write(
                {
                    "legal_regime": regime,
                    "interest_amount": interest,
                    "indemnity_amount": indemnity,
                }
            )
