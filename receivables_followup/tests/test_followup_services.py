from datetime import date
from decimal import Decimal

from odoo.tests import BaseCase, tagged

from ..services.interest import (
    late_interest,
    legal_amounts,
    rate_segments,
    recovery_indemnity,
)
from ..services.levels import (
    Level,
    days_overdue,
    due_level,
    next_action_date,
    next_level,
)
from ..services.planner import InvoiceRow, plan_actions
from ..services.status import (
    AT_AGENCY,
    EXCLUDED,
    IN_FOLLOWUP,
    NOT_DUE,
    PAID,
    PAUSED_DISPUTE,
    PAUSED_PROMISE,
    invoice_status,
)

LEVELS = [Level(1, 10), Level(2, 30), Level(3, 60, manual=True)]
#: French legal rate = ECB refinancing rate + 10 points
POLICIES = {7: LEVELS}
RATES_2025 = [(date(2025, 1, 1), 13.15), (date(2025, 7, 1), 12.15)]


@tagged("post_install", "-at_install")
class TestFollowupLevelRules(BaseCase):
    """The ladder: one rung at a time, at the policy's pace."""

    def test_first_level_follows_no_level(self):
        self.assertEqual(next_level(LEVELS, None), LEVELS[0])

    def test_top_of_the_ladder_has_no_next_level(self):
        self.assertIsNone(next_level(LEVELS, 3))
        self.assertIsNone(next_action_date(date(2025, 1, 1), LEVELS, 3))

    def test_unknown_current_level_restarts_the_ladder(self):
        self.assertEqual(next_level(LEVELS, 999), LEVELS[0])

    def test_first_level_due_delay_days_after_due_date(self):
        self.assertEqual(
            next_action_date(date(2025, 1, 1), LEVELS, None), date(2025, 1, 11)
        )

    def test_level_boundaries(self):
        due = date(2025, 1, 1)
        self.assertIsNone(due_level(date(2025, 1, 10), due, LEVELS, None))
        self.assertEqual(due_level(date(2025, 1, 11), due, LEVELS, None), LEVELS[0])
        self.assertEqual(due_level(date(2025, 1, 12), due, LEVELS, None), LEVELS[0])

    def test_very_late_invoice_gets_the_first_level_only(self):
        self.assertEqual(
            due_level(date(2025, 6, 1), date(2025, 1, 1), LEVELS, None), LEVELS[0]
        )

    def test_next_level_waits_the_gap_after_the_last_action(self):
        # Level 1 performed late, on 1 March: level 2 comes 20 days later, not on
        # 31 January (due date + 30).
        when = next_action_date(
            date(2025, 1, 1), LEVELS, 1, last_action_date=date(2025, 3, 1)
        )
        self.assertEqual(when, date(2025, 3, 21))

    def test_next_level_waits_the_gap_after_a_pause(self):
        when = next_action_date(
            date(2025, 1, 1),
            LEVELS,
            1,
            last_action_date=date(2025, 1, 11),
            resumed_on=date(2025, 4, 1),
        )
        self.assertEqual(when, date(2025, 4, 21))

    def test_postponed_level_waits_the_postponed_date(self):
        when = next_action_date(
            date(2025, 1, 1), LEVELS, None, not_before=date(2025, 2, 1)
        )
        self.assertEqual(when, date(2025, 2, 1))

    def test_days_overdue(self):
        self.assertEqual(days_overdue(date(2025, 1, 1), date(2025, 1, 11)), 10)
        self.assertEqual(days_overdue(date(2025, 1, 11), date(2025, 1, 1)), 0)


@tagged("post_install", "-at_install")
class TestFollowupPlanner(BaseCase):
    """Grouping per customer and level, net position, minimum amounts."""

    today = date(2025, 3, 1)

    def _row(self, move_id, partner_id, residual, due=date(2025, 1, 1), **values):
        return InvoiceRow(move_id, partner_id, 7, due, residual, **values)

    def test_one_action_per_partner_and_level(self):
        plan = plan_actions(
            self.today,
            [self._row(1, 100, 50.0), self._row(2, 100, 70.0), self._row(3, 200, 10.0)],
            POLICIES,
        )
        self.assertEqual(
            [(a.partner_id, a.level_id, a.invoice_ids) for a in plan.actions],
            [(100, 1, [1, 2]), (200, 1, [3])],
        )
        self.assertEqual(plan.actions[0].claimed, 120.0)

    def test_customer_sent_its_next_reminder_now_skips_the_wait(self):
        # level 1 performed yesterday: level 2 is 20 days away, except for the
        # customer a person sends its next reminder now
        rows = [
            self._row(1, 100, 50.0, level_id=1, last_action_date=date(2025, 2, 28)),
            self._row(2, 200, 70.0, level_id=1, last_action_date=date(2025, 2, 28)),
        ]
        self.assertEqual(plan_actions(self.today, rows, POLICIES).actions, [])
        plan = plan_actions(self.today, rows, POLICIES, now_partners={200})
        self.assertEqual(
            [(a.partner_id, a.level_id, a.invoice_ids) for a in plan.actions],
            [(200, 2, [2])],
        )

    def test_credits_reduce_the_claim(self):
        plan = plan_actions(
            self.today, [self._row(1, 100, 500.0)], POLICIES, {100: 200.0}
        )
        self.assertEqual(plan.actions[0].claimed, 300.0)

    def test_partner_covered_by_credits_is_not_reminded(self):
        plan = plan_actions(
            self.today, [self._row(1, 100, 500.0)], POLICIES, {100: 500.0}
        )
        self.assertEqual(plan.actions, [])
        self.assertEqual(plan.skipped_covered, {100})

    def test_level_minimum_holds_small_claims_back(self):
        policies = {7: [Level(1, 10, min_amount=100.0)]}
        plan = plan_actions(self.today, [self._row(1, 100, 99.99)], policies)
        self.assertEqual((plan.actions, plan.below_minimum), ([], 1))

    def test_manual_level_and_manual_partner_are_flagged_for_review(self):
        plan = plan_actions(
            self.today,
            [
                self._row(
                    1,
                    100,
                    10.0,
                    due=date(2024, 12, 1),
                    level_id=2,
                    last_action_date=date(2025, 1, 20),
                )
            ],
            POLICIES,
        )
        self.assertTrue(plan.actions[0].manual)
        plan = plan_actions(
            self.today, [self._row(1, 100, 10.0)], POLICIES, manual_partners={100}
        )
        self.assertTrue(plan.actions[0].manual)

    def test_next_dates_of_invoices_not_due_yet_for_a_level(self):
        plan = plan_actions(
            self.today, [self._row(1, 100, 10.0, due=date(2025, 2, 25))], POLICIES
        )
        self.assertEqual(plan.actions, [])
        self.assertEqual(plan.next_dates, {1: date(2025, 3, 7)})


@tagged("post_install", "-at_install")
class TestFollowupInterest(BaseCase):
    """French late-payment interest (L441-10) and recovery indemnity (D441-5)."""

    def test_interest_across_two_half_years(self):
        """10,000.00 EUR due 2025-05-15, paid 2025-08-20.

        Interest runs from 16 May to 20 August: 97 days.
        - 16 May - 30 June 2025: 16 + 30 = 46 days at 3.15 + 10 = 13.15 %
          10,000 x 13.15 % x 46 / 365 = 60,490 / 365 = 165.72603
        - 1 July - 20 August 2025: 31 + 20 = 51 days at 2.15 + 10 = 12.15 %
          10,000 x 12.15 % x 51 / 365 = 61,965 / 365 = 169.76712
        Total 335.49315, rounded 335.49 EUR.
        """
        self.assertEqual(
            rate_segments(RATES_2025, date(2025, 5, 15), date(2025, 8, 20)),
            [(46, Decimal("13.15")), (51, Decimal("12.15"))],
        )
        self.assertEqual(
            late_interest(10000.0, date(2025, 5, 15), date(2025, 8, 20), RATES_2025),
            Decimal("335.49"),
        )

    def test_interest_within_one_half_year(self):
        """1,000.00 EUR due 2025-01-31, until 2025-03-02: 30 days at 13.15 %.

        1,000 x 13.15 % x 30 / 365 = 3,945 / 365 = 10.80822, rounded 10.81.
        """
        self.assertEqual(
            late_interest(1000.0, date(2025, 1, 31), date(2025, 3, 2), RATES_2025),
            Decimal("10.81"),
        )

    def test_no_interest_before_or_on_the_due_date(self):
        self.assertEqual(
            late_interest(1000.0, date(2025, 3, 1), date(2025, 3, 1), RATES_2025), 0
        )

    def test_days_before_the_first_known_rate_use_it(self):
        """1,000.00 EUR due 2024-12-30, until 2025-01-02: 3 days, all at the first
        known rate 13.15 %: 1,000 x 13.15 % x 3 / 365 = 1.08082, rounded 1.08."""
        segments = rate_segments(RATES_2025, date(2024, 12, 30), date(2025, 1, 2))
        self.assertEqual(sum(days for days, _rate in segments), 3)
        self.assertEqual({rate for _days, rate in segments}, {Decimal("13.15")})
        self.assertEqual(
            late_interest(1000.0, date(2024, 12, 30), date(2025, 1, 2), RATES_2025),
            Decimal("1.08"),
        )

    def test_legal_amounts_of_two_invoices(self):
        """1,000.00 EUR due 2025-01-31 and 2,000.00 EUR due 2025-02-10, on 2025-03-02.

        - 30 days at 13.15 %: 1,000 x 13.15 % x 30 / 365 = 10.80822 -> 10.81
        - 20 days at 13.15 %: 2,000 x 13.15 % x 20 / 365 = 14.41096 -> 14.41
        Interest 25.22 EUR; indemnity 2 x 40 = 80 EUR.
        """
        interest, indemnity = legal_amounts(
            [(1000.0, date(2025, 1, 31)), (2000.0, date(2025, 2, 10))],
            date(2025, 3, 2),
            RATES_2025,
        )
        self.assertEqual((interest, indemnity), (Decimal("25.22"), Decimal("80.00")))

    def test_recovery_indemnity_is_40_eur_per_invoice(self):
        self.assertEqual(recovery_indemnity(3), Decimal("120.00"))


@tagged("post_install", "-at_install")
class TestFollowupStatusRules(BaseCase):
    """Precedence of the follow-up statuses."""

    today = date(2025, 3, 1)

    def _status(self, **flags):
        values = {"is_open": True, "due_date": date(2025, 1, 1), "today": self.today}
        return invoice_status(**(values | flags))

    def test_paid_invoice(self):
        self.assertEqual(self._status(is_open=False, excluded=True), PAID)

    def test_exclusion_outranks_everything(self):
        self.assertEqual(
            self._status(excluded=True, at_agency=True, disputed=True), EXCLUDED
        )

    def test_agency_outranks_dispute(self):
        self.assertEqual(self._status(at_agency=True, disputed=True), AT_AGENCY)

    def test_dispute_outranks_promise(self):
        self.assertEqual(
            self._status(disputed=True, promise_date=self.today), PAUSED_DISPUTE
        )

    def test_kept_and_broken_promise(self):
        self.assertEqual(self._status(promise_date=self.today), PAUSED_PROMISE)
        self.assertEqual(self._status(promise_date=date(2025, 2, 28)), IN_FOLLOWUP)

    def test_not_due(self):
        self.assertEqual(self._status(due_date=self.today), NOT_DUE)
