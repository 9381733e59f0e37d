"""What one reminder claims, decided over plain values: one action per customer at
its highest level, credits counted once and deducted in their own currency, and the
late-payment law that applies to a customer."""

from datetime import date

from odoo.tests import BaseCase, tagged

from ..services import legal
from ..services.claims import ClaimLine, spread_deduction, totals_by_currency
from ..services.levels import Level
from ..services.planner import InvoiceRow, plan_actions

EUR, USD = 1, 2
DIGITS = {EUR: 2, USD: 2}
POLICY = 7
LEVELS = {POLICY: [Level(1, 10), Level(2, 30), Level(3, 60, manual=True)]}
EU = {"FR", "DE", "BE", "IT"}


def _line(invoice_id, currency_id, residual_currency, residual, due=date(2025, 1, 1)):
    return ClaimLine(invoice_id, currency_id, due, residual, residual_currency)


@tagged("post_install", "-at_install")
class TestSpreadDeduction(BaseCase):
    def test_credit_in_the_invoices_currency_is_deducted_at_face_value(self):
        """4,990 EUR invoiced at 1.08 USD, a 1,500 EUR payment booked at 1.10."""
        lines = [_line(1, EUR, 990.0, 1069.2), _line(2, EUR, 4000.0, 4320.0)]
        deducted = spread_deduction(lines, {EUR: (1500.0, 1650.0)}, 1650.0, DIGITS)
        self.assertEqual(deducted, {EUR: 1500.0})
        self.assertEqual(sum(line.claimed_currency for line in lines), 3490.0)

    def test_oldest_invoice_is_credited_first(self):
        lines = [
            _line(1, EUR, 300.0, 300.0, due=date(2025, 2, 1)),
            _line(2, EUR, 500.0, 500.0, due=date(2025, 1, 1)),
        ]
        spread_deduction(lines, {EUR: (600.0, 600.0)}, 600.0, DIGITS)
        self.assertEqual([line.credit_currency for line in lines], [100.0, 500.0])

    def test_credit_in_another_currency_is_converted_at_the_invoices_rate(self):
        """A 100 USD credit (80 EUR in the books) against EUR invoices."""
        lines = [_line(1, EUR, 1000.0, 1000.0)]
        deducted = spread_deduction(lines, {USD: (100.0, 80.0)}, 80.0, DIGITS)
        self.assertEqual(deducted, {EUR: 80.0})

    def test_deduction_never_exceeds_what_is_open(self):
        lines = [_line(1, EUR, 100.0, 100.0)]
        spread_deduction(lines, {EUR: (500.0, 500.0)}, 100.0, DIGITS)
        self.assertEqual(lines[0].claimed_currency, 0.0)

    def test_no_deduction_leaves_the_claim_whole(self):
        lines = [_line(1, EUR, 100.0, 100.0), _line(2, USD, 50.0, 40.0)]
        self.assertEqual(spread_deduction(lines, {}, 0.0, DIGITS), {})
        self.assertEqual([line.claimed_currency for line in lines], [100.0, 50.0])

    def test_totals_are_kept_per_currency(self):
        totals = totals_by_currency(
            [(EUR, 100.0, 10.0), (USD, 50.0, 0.0), (EUR, 20.0, 0.0)]
        )
        self.assertEqual(totals, {EUR: (120.0, 10.0, 110.0), USD: (50.0, 0.0, 50.0)})


@tagged("post_install", "-at_install")
class TestOneActionPerCustomer(BaseCase):
    today = date(2025, 3, 1)

    def _row(self, move_id, residual, due, level_id=0, last=None, currency=EUR):
        return InvoiceRow(
            move_id,
            100,
            POLICY,
            due,
            residual,
            level_id=level_id,
            last_action_date=last,
            currency_id=currency,
            residual_currency=residual,
        )

    def _two_levels(self):
        return [
            self._row(1, 990.0, date(2025, 2, 15)),  # first reminder due
            self._row(2, 4000.0, date(2025, 1, 1), level_id=1, last=date(2025, 1, 11)),
        ]

    def test_invoices_at_two_levels_make_one_action_at_the_highest(self):
        plan = plan_actions(self.today, self._two_levels(), LEVELS)
        self.assertEqual(len(plan.actions), 1)
        action = plan.actions[0]
        self.assertEqual(action.level_id, 2)
        self.assertEqual(
            {line.invoice_id: line.level_id for line in action.lines}, {1: 1, 2: 2}
        )

    def test_credits_are_deducted_once_from_the_one_action(self):
        plan = plan_actions(
            self.today,
            self._two_levels(),
            LEVELS,
            credits={100: 1500.0},
            credits_by_currency={100: {EUR: (1500.0, 1500.0)}},
            digits=DIGITS,
        )
        action = plan.actions[0]
        self.assertEqual(action.claimed, 3490.0)
        self.assertEqual(sum(line.claimed_currency for line in action.lines), 3490.0)

    def test_a_manual_level_among_them_puts_the_action_under_review(self):
        rows = self._two_levels() + [
            self._row(3, 50.0, date(2024, 12, 1), level_id=2, last=date(2025, 1, 1))
        ]
        action = plan_actions(self.today, rows, LEVELS).actions[0]
        self.assertEqual((action.level_id, action.manual), (3, True))

    def test_a_level_below_its_minimum_does_not_drag_the_others(self):
        levels = {POLICY: [Level(1, 10), Level(2, 30, min_amount=5000.0)]}
        plan = plan_actions(self.today, self._two_levels(), levels)
        self.assertEqual(plan.below_minimum, 1)
        self.assertEqual(
            [(act.level_id, act.invoice_ids) for act in plan.actions], [(1, [1])]
        )


@tagged("post_install", "-at_install")
class TestLegalRegime(BaseCase):
    def test_french_business_customer_of_a_french_company_gets_french_law(self):
        regime = legal.legal_regime(legal.SCOPE_DOMESTIC, "FR", "FR", True, EU)
        self.assertEqual(regime, legal.FRENCH_LAW)

    def test_foreign_customer_gets_nothing_by_default(self):
        for country in ("DE", "GB", "US"):
            regime = legal.legal_regime(legal.SCOPE_DOMESTIC, "FR", country, True, EU)
            self.assertIsNone(regime, country)

    def test_consumer_gets_nothing_whatever_the_scope(self):
        for scope in (legal.SCOPE_DOMESTIC, legal.SCOPE_EU, legal.SCOPE_ALL):
            self.assertIsNone(legal.legal_regime(scope, "FR", "FR", False, EU), scope)

    def test_eu_scope_gives_other_eu_customers_the_directive(self):
        self.assertEqual(
            legal.legal_regime(legal.SCOPE_EU, "FR", "DE", True, EU),
            legal.EU_DIRECTIVE,
        )
        self.assertIsNone(legal.legal_regime(legal.SCOPE_EU, "FR", "GB", True, EU))

    def test_company_outside_france_claims_no_french_law(self):
        self.assertIsNone(legal.legal_regime(legal.SCOPE_ALL, "US", "FR", True, EU))

    def test_directive_rate_is_the_reference_rate_plus_eight_points(self):
        rates = [(date(2025, 1, 1), 3.15, 13.15)]
        self.assertEqual(legal.regime_rates(rates, legal.EU_DIRECTIVE)[0][1], 11.15)
        self.assertEqual(legal.regime_rates(rates, legal.FRENCH_LAW)[0][1], 13.15)
