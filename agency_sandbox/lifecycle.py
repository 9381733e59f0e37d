"""Which lifecycle moves a case may make, and how ``advance`` gets it somewhere.

One table says, for each partner action, the lifecycles it may start from and the one it
leads to; everything that changes a case's lifecycle (the control API playing the
partner, the spec's ``POST /test/cases/{id}/advance``) asks this table first, so the
sandbox never produces a move the real platform would not. A refused move is a
``TransitionError`` naming the current lifecycle, which the HTTP layer turns into a 409
(control API) or a 400 (advance, as the spec says).
"""

from .reference import FINISHED_LIFECYCLES, LIFECYCLES

OPEN = frozenset(LIFECYCLES) - FINISHED_LIFECYCLES
BEFORE_ACTIVE = frozenset(
    {
        "PendingContractSigning",
        "PendingVerificationInternal",
        "PendingVerification",
        "NeedsAdditionalDetails",
        "Leads",
        "LeadsQuoteGiven",
        "Paused",
    }
)

# action -> (lifecycles it may start from, lifecycle it leads to)
MOVES = {
    "activate": (BEFORE_ACTIVE, "Active"),
    "request-details": (OPEN - {"NeedsAdditionalDetails"}, "NeedsAdditionalDetails"),
    "pause": (frozenset({"Active"}), "Paused"),
    "resume": (frozenset({"Paused"}), "Active"),
    "close": (OPEN, "Closed"),
    "reopen": (frozenset({"Closed"}), "Active"),
    "contracts-signed": (
        frozenset({"PendingContractSigning"}),
        "PendingVerificationInternal",
    ),
}

ADVANCE_CLOSE_CODES = {
    "Closed:Paid": "Paid",
    "Closed:NoPayment": "PreLegalExhaustedNoPayment",
}


class TransitionError(Exception):
    """A move the case's current lifecycle does not allow."""


def target_of(action, current):
    """Lifecycle ``action`` leads to from ``current`` (TransitionError if refused)."""
    sources, target = MOVES[action]
    if current not in sources:
        raise TransitionError(
            f"Cannot {action.replace('-', ' ')} a case whose lifecycle is {current}."
        )
    return target


def advance_state(lifecycle, close_code):
    """``AdvanceTestCaseResponse.state`` for a case in ``lifecycle``/``close_code``."""
    if lifecycle != "Closed":
        return lifecycle
    for state, code in ADVANCE_CLOSE_CODES.items():
        if close_code == code:
            return state
    return "Closed"


def advance_plan(lifecycle, close_code, target, amount_cents=None):
    """Steps that take a test case to ``target``: a list of ``(action, argument)``.

    An empty list means the case is already there (the spec's no-op, ``advanced:
    false``). Raise ValueError with the spec's 400 reasons: unknown target, missing
    amount for ``Closed:Paid``, or a case already closed with another close code.
    """
    if target == "Active":
        if lifecycle == "Active" or lifecycle in FINISHED_LIFECYCLES:
            return []
        return [("activate", None)]
    if target not in ADVANCE_CLOSE_CODES:
        raise ValueError("'to' must be one of: Active, Closed:Paid, Closed:NoPayment.")
    if target == "Closed:Paid" and (amount_cents is None or amount_cents <= 0):
        raise ValueError("'amount' is required and must be positive for Closed:Paid.")
    code = ADVANCE_CLOSE_CODES[target]
    if lifecycle in FINISHED_LIFECYCLES:
        if close_code == code:
            return []
        raise ValueError(
            f"The case is already {advance_state(lifecycle, close_code)}; it cannot "
            f"be advanced to {target}."
        )
    steps = [] if lifecycle == "Active" else [("activate", None)]
    if target == "Closed:Paid":
        steps.append(("pay", amount_cents))
    steps.append(("close", code))
    return steps
