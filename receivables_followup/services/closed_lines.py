"""Which lines of a batch of actions to drop just before performing it.

An invoice paid or paused since its action was planned is no longer claimed: its
line goes, unless it was the action's last open invoice. An action left with no
open invoice is skipped and keeps its lines, which say what it was about.
"""

from dataclasses import dataclass, field


@dataclass
class ClosedLines:
    """The lines of a batch sorted by whether their invoice is still open."""

    #: (action id, line id) of the lines whose invoice is closed
    closed: list = field(default_factory=list)
    #: actions with at least one open invoice
    open_actions: set = field(default_factory=set)
    #: actions with at least one closed invoice
    touched: set = field(default_factory=set)

    @property
    def emptied(self):
        """The actions left with no open invoice, in id order."""
        return sorted(self.touched - self.open_actions)

    @property
    def dropped_line_ids(self):
        """The closed lines of the actions that still remind an open invoice."""
        return [
            line_id
            for action_id, line_id in self.closed
            if action_id in self.open_actions
        ]

    @property
    def trimmed(self):
        """The actions that lose lines and are still performed."""
        return self.touched & self.open_actions


def sort_lines(rows):
    """:param rows: (action id, line id, whether its invoice is open), per line
    :returns: :class:`ClosedLines`"""
    result = ClosedLines()
    for history_id, line_id, is_open in rows:
        if is_open:
            result.open_actions.add(history_id)
        else:
            result.closed.append((history_id, line_id))
            result.touched.add(history_id)
    return result
