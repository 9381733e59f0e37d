from datetime import date

from odoo.tests import BaseCase, tagged

from ..services.closed_lines import sort_lines
from ..services.mail_rows import recipient_columns
from ..services.plan_rows import action_columns, legal_rows, line_columns
from ..services.planner import PlannedAction, PlannedLine
from ..services.position import group_totals, partner_totals


def _round(amount):
    return round(amount, 2)


@tagged("post_install", "-at_install")
class TestFollowupBatchRows(BaseCase):
    """The rows the run's batch statements insert, built from plain values."""

    def _planned(self):
        usd_line = PlannedLine(
            invoice_id=11,
            currency_id=2,
            due_date=date(2025, 1, 1),
            residual=50.0,
            residual_currency=100.0,
            credit_currency=30.0,
            level_id=5,
        )
        eur_line = PlannedLine(
            invoice_id=12,
            currency_id=1,
            due_date=None,
            residual=40.0,
            residual_currency=40.0,
            level_id=6,
        )
        return [
            PlannedAction(7, 6, [usd_line], amount=50.0, claimed=35.004),
            PlannedAction(8, 6, [eur_line], claimed=40.0, manual=True),
        ]

    def test_action_row_goes_to_invoicing_contact_and_deducts_credits(self):
        planned = self._planned()
        legal = legal_rows(2, {1: ("fr", [(1.5, 40.0)], 1.5, 40.0)})
        columns = action_columns(planned, {7: 70}, legal, _round)
        self.assertEqual(columns["recipients"], [70, 8])
        self.assertEqual(columns["states"], ["pending", "to_review"])
        self.assertEqual(columns["claimed"], [35.0, 40.0])
        self.assertEqual(columns["credits"], [15.0, 0.0])
        self.assertEqual(columns["regimes"], [None, "fr"])
        self.assertEqual(columns["indemnities"], [0.0, 40.0])

    def test_line_row_claims_net_of_credits_in_both_currencies(self):
        planned = self._planned()
        columns = line_columns([101, 102], planned, [None, [(1.5, 40.0)]], _round)
        self.assertEqual(columns["history"], [101, 102])
        self.assertEqual(columns["claimed"], [70.0, 40.0])
        # 70 USD at the invoice's rate (50 EUR for 100 USD)
        self.assertEqual(columns["claimed_company"], [35.0, 40.0])
        self.assertEqual(columns["due"], ["2025-01-01", None])
        self.assertEqual(columns["interest"], [0.0, 1.5])

    def test_closed_line_dropped_only_from_an_action_still_open(self):
        rows = [(1, 10, True), (1, 11, False), (2, 20, False)]
        lines = sort_lines(rows)
        self.assertEqual(lines.dropped_line_ids, [11])
        self.assertEqual(lines.emptied, [2])
        self.assertEqual(lines.trimmed, {1})

    def test_one_recipient_row_per_partner_of_each_email(self):
        emails = [{"recipient_ids": [3, 4]}, {"recipient_ids": [5]}]
        self.assertEqual(
            recipient_columns(emails, [91, 92], {91: 1, 92: 2}),
            ([1, 1, 2], [3, 4, 5]),
        )

    def test_customer_in_one_currency_reads_it_in_several_the_company_s(self):
        due, overdue, by_level = group_totals(
            [("a", "usd", 100.0, 50.0), ("b", "usd", 10.0, 5.0)]
            + [("b", "eur", 20.0, 20.0)],
            [("a", "usd", "l1", 60.0, 30.0), ("a", "usd", "l2", 40.0, 20.0)],
        )
        self.assertEqual(
            partner_totals(due["a"], overdue["a"], "eur"), ("usd", 100.0, 100.0)
        )
        self.assertEqual(partner_totals(due["b"], {}, "eur"), ("eur", 25.0, 0))
        self.assertEqual(by_level["a"], {"l1": [("usd", 60.0)], "l2": [("usd", 40.0)]})
