"""Turn the open invoices of one company into the day's follow-up actions.

Input is plain rows gathered in one query; output is the list of actions to perform,
one per partner and level, with the invoices each one reminds, and the next action
date of every invoice. The partner's net position counts: unreconciled credit notes
and payments reduce what is claimed, and a partner whose credits cover its overdue
amount is not reminded at all.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from .levels import next_action_date, next_level


@dataclass(frozen=True)
class InvoiceRow:
    """An open customer invoice whose status lets it escalate."""

    id: int
    partner_id: int
    policy_id: int
    due_date: object
    residual: float  # company currency
    level_id: int = 0
    last_action_date: object = None
    resumed_on: object = None
    not_before: object = None


@dataclass
class PlannedAction:
    """One reminder to perform: a partner, a level, the invoices it covers."""

    partner_id: int
    level_id: int
    invoice_ids: list = field(default_factory=list)
    amount: float = 0.0
    claimed: float = 0.0
    manual: bool = False


@dataclass
class Plan:
    actions: list
    next_dates: dict  # invoice id -> date or None
    skipped_covered: set  # partners whose credits cover their overdue amount
    below_minimum: int = 0  # (partner, level) groups held back by the level minimum


def plan_actions(today, invoices, levels_by_policy, credits=None, manual_partners=()):
    """Plan the follow-up actions due ``today``.

    :param today: the run date
    :param invoices: iterable of :class:`InvoiceRow`
    :param levels_by_policy: {policy_id: [Level sorted by delay]}
    :param credits: {partner_id: unreconciled credit, positive, company currency}
    :param manual_partners: partners excluded from automatic follow-up: their
        actions are planned for a person's review instead of being performed
    """
    credits = credits or {}
    manual_partners = set(manual_partners)
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
        if when is None or when > today:
            continue
        level = next_level(levels, row.level_id)
        key = (row.partner_id, level)
        action = groups.get(key)
        if action is None:
            action = groups[key] = PlannedAction(row.partner_id, level.id)
        action.invoice_ids.append(row.id)
        action.amount += row.residual

    actions = []
    covered = set()
    below_minimum = 0
    for (partner_id, level), action in groups.items():
        net = overdue_by_partner[partner_id] - credits.get(partner_id, 0.0)
        if net <= 0.005:
            covered.add(partner_id)
            continue
        action.claimed = min(action.amount, net)
        if action.claimed + 0.005 < level.min_amount:
            below_minimum += 1
            continue
        action.manual = level.manual or partner_id in manual_partners
        actions.append(action)
    actions.sort(key=lambda act: (act.partner_id, act.level_id))
    return Plan(actions, next_dates, covered, below_minimum)
