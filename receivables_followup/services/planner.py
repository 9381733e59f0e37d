"""Turn the open invoices of one company into the day's follow-up actions.

Input is plain rows gathered in one query; output is the list of actions to perform,
**one per customer**, with the invoices each one reminds and the level each invoice
reaches, and the next action date of every invoice.

A customer whose invoices reach different levels on the same day gets one message:
the highest level's, listing every invoice at its own stage. Two messages the same
day, each deducting the customer's credits on its own, would claim more than the
customer owes. The customer's net position counts: unreconciled credit notes and
payments reduce what is claimed, and a customer whose credits cover its overdue
amount is not reminded at all. A level's minimum amount is checked on the invoices
reaching that level, before the levels are merged, so that a small invoice reaching
the formal notice does not drag the customer's other invoices there.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from .claims import ClaimLine, spread_deduction
from .levels import next_action_date, next_level

#: company-currency amounts below this are nothing
TOLERANCE = 0.005


@dataclass(frozen=True)
class InvoiceRow:
    """An open customer invoice whose status lets it escalate."""

    id: int
    partner_id: int
    policy_id: int
    due_date: object
    residual: float  # claimable residual, company currency
    level_id: int = 0
    last_action_date: object = None
    resumed_on: object = None
    not_before: object = None
    currency_id: int = 0
    residual_currency: float = None  # claimable residual, invoice currency

    @property
    def residual_in_currency(self):
        return (
            self.residual
            if self.residual_currency is None
            else (self.residual_currency)
        )


@dataclass
class PlannedLine(ClaimLine):
    """An invoice of a planned action, and the level it reaches."""

    level_id: int = 0


@dataclass
class PlannedAction:
    """One reminder to perform: a customer, its highest level due, its invoices."""

    partner_id: int
    level_id: int
    lines: list = field(default_factory=list)
    amount: float = 0.0  # company currency
    claimed: float = 0.0  # company currency, net of credits
    manual: bool = False
    review_reason: str = ""  # why a person must decide, when not the level's rule

    @property
    def invoice_ids(self):
        return [line.invoice_id for line in self.lines]


@dataclass
class Plan:
    actions: list
    next_dates: dict  # invoice id -> date or None
    skipped_covered: set  # partners whose credits cover their overdue amount
    below_minimum: int = 0  # (partner, level) groups held back by the level minimum


def plan_actions(
    today,
    invoices,
    levels_by_policy,
    credits=None,
    manual_partners=(),
    credits_by_currency=None,
    digits=None,
    now_partners=(),
):
    """Plan the follow-up actions due ``today``.

    :param today: the run date
    :param invoices: iterable of :class:`InvoiceRow`
    :param levels_by_policy: {policy_id: [Level sorted by delay]}
    :param credits: {partner_id: unreconciled credit, positive, company currency}
    :param manual_partners: partners excluded from automatic follow-up: their
        actions are planned for a person's review instead of being performed
    :param credits_by_currency: {partner_id: {currency_id: (amount in currency,
        amount in company currency)}}, to deduct credits in their own currency
    :param digits: {currency_id: decimal places}
    :param now_partners: customers whose overdue invoices take their next level
        today, whatever its delay (a person sends their next reminder now)
    """
    credits = credits or {}
    credits_by_currency = credits_by_currency or {}
    manual_partners = set(manual_partners)
    next_dates, overdue_by_partner, groups = _due_groups(
        today, invoices, levels_by_policy, now_partners
    )
    kept_by_partner, covered, below_minimum = _claimable_groups(
        groups, overdue_by_partner, credits
    )
    actions = [
        _merged_action(
            partner_id,
            levels_and_rows,
            net=overdue_by_partner[partner_id] - credits.get(partner_id, 0.0),
            manual=partner_id in manual_partners,
            credits=credits_by_currency.get(partner_id, {}),
            digits=digits or {},
        )
        for partner_id, levels_and_rows in kept_by_partner.items()
    ]
    actions.sort(key=lambda act: act.partner_id)
    return Plan(actions, next_dates, covered, below_minimum)


def _due_groups(today, invoices, levels_by_policy, now_partners):
    """One pass over the invoices: each one's next action date, each customer's
    overdue amount, and the invoices due today grouped by (customer, next level).

    :return: (next_dates {invoice id: date or None},
        overdue_by_partner {partner_id: overdue residual},
        groups {(partner_id, Level): [InvoiceRow]})
    """
    next_dates = {}
    overdue_by_partner = defaultdict(float)
    groups = {}
    for row in invoices:
        levels = levels_by_policy.get(row.policy_id) or []
        if row.due_date and row.due_date < today:
            overdue_by_partner[row.partner_id] += row.residual
        when = next_action_date(
            row.due_date,
            levels,
            row.level_id,
            last_action_date=row.last_action_date,
            resumed_on=row.resumed_on,
            not_before=row.not_before,
        )
        next_dates[row.id] = when
        if when is None or (when > today and row.partner_id not in now_partners):
            continue
        level = next_level(levels, row.level_id)
        groups.setdefault((row.partner_id, level), []).append(row)
    return next_dates, overdue_by_partner, groups


def _claimable_groups(groups, overdue_by_partner, credits):
    """Drop the groups of customers whose credits cover their overdue amount,
    and the groups claiming less than their level's minimum amount (checked per
    level, before the levels are merged).

    :return: (kept_by_partner {partner_id: [(Level, [InvoiceRow])]},
        covered {partner_id}, below_minimum: number of groups held back)
    """
    kept_by_partner = defaultdict(list)
    covered = set()
    below_minimum = 0
    for (partner_id, level), rows in groups.items():
        net = overdue_by_partner[partner_id] - credits.get(partner_id, 0.0)
        if net <= TOLERANCE:
            covered.add(partner_id)
            continue
        claimed = min(sum(row.residual for row in rows), net)
        if claimed + TOLERANCE < level.min_amount:
            below_minimum += 1
            continue
        kept_by_partner[partner_id].append((level, rows))
    return kept_by_partner, covered, below_minimum


def _merged_action(partner_id, levels_and_rows, net, manual, credits, digits):
    """One action for a customer's invoices due today, at the highest level."""
    top = max((level for level, _rows in levels_and_rows), key=lambda lvl: lvl.delay)
    lines = [
        PlannedLine(
            invoice_id=row.id,
            currency_id=row.currency_id,
            due_date=row.due_date,
            residual=row.residual,
            residual_currency=row.residual_in_currency,
            level_id=level.id,
        )
        for level, rows in levels_and_rows
        for row in rows
    ]
    lines.sort(key=lambda line: (line.due_date, line.invoice_id))
    amount = sum(line.residual for line in lines)
    claimed = min(amount, net)
    spread_deduction(lines, credits, amount - claimed, digits)
    return PlannedAction(
        partner_id=partner_id,
        level_id=top.id,
        lines=lines,
        amount=amount,
        claimed=claimed,
        manual=manual or any(level.manual for level, _rows in levels_and_rows),
    )
