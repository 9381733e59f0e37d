"""Which escalation level is due for an invoice, and when.

An invoice climbs its policy's ladder one rung at a time: the level due is always the
level that follows the last one performed, never a later one. An invoice that is 90
days late the day the module is installed therefore gets the first reminder, not the
formal notice, and then the following levels at the policy's own pace. The pace
between two rungs is the difference of their delays, counted from the last action
(or from the end of a pause), so that a pause is never followed by a burst of
catch-up reminders.
"""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Level:
    """One rung of a policy's ladder, as the engine needs it."""

    id: int
    delay: int
    min_amount: float = 0.0
    manual: bool = False


def next_level(levels, current_level_id):
    """Return the level after ``current_level_id`` in ``levels`` (sorted), or None.

    ``current_level_id`` False/None means no level performed yet. A current level
    that is no longer part of the policy (the policy changed) restarts the ladder at
    the first level whose delay exceeds nothing performed: the first level.
    """
    if not levels:
        return None
    if not current_level_id:
        return levels[0]
    for index, level in enumerate(levels):
        if level.id == current_level_id:
            return levels[index + 1] if index + 1 < len(levels) else None
    return levels[0]


def level_gap(levels, current_level_id, following):
    """Days the policy puts between the current level and the following one."""
    current = next((lvl for lvl in levels if lvl.id == current_level_id), None)
    if current is None:
        return 0
    return max(following.delay - current.delay, 0)


def next_action_date(
    due_date,
    levels,
    current_level_id,
    last_action_date=None,
    resumed_on=None,
    not_before=None,
):
    """Date on which the next level becomes due, or None at the top of the ladder.

    :param date due_date: the invoice's due date
    :param list levels: the policy's levels sorted by delay
    :param current_level_id: id of the last level performed, or None
    :param date last_action_date: date the last level was performed
    :param date resumed_on: date a pause (dispute, broken promise) ended
    :param date not_before: date a person postponed the next level to
    """
    following = next_level(levels, current_level_id)
    if following is None or not due_date:
        return None
    candidate = due_date + timedelta(days=following.delay)
    gap = timedelta(days=level_gap(levels, current_level_id, following))
    if last_action_date:
        candidate = max(candidate, last_action_date + gap)
    if resumed_on:
        candidate = max(candidate, resumed_on + gap)
    if not_before:
        candidate = max(candidate, not_before)
    return candidate


def due_level(today, due_date, levels, current_level_id, **dates):
    """Return the level to perform today for one invoice, or None.

    ``dates`` are the optional dates of :func:`next_action_date`.
    """
    when = next_action_date(due_date, levels, current_level_id, **dates)
    if when is None or when > today:
        return None
    return next_level(levels, current_level_id)


def days_overdue(due_date, today):
    """Whole days between the due date and today (0 when not yet due)."""
    if not due_date:
        return 0
    return max((today - due_date).days, 0)
