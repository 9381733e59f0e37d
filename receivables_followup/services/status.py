"""The follow-up status of a customer invoice, from its flags.

The order of the checks is the order of precedence a credit controller expects: an
excluded invoice is excluded whatever else is true of it; an invoice at the agency is
the agency's; a dispute outranks a promise; a promise outranks the hold of a customer's
answer, which outranks a pending review.
"""

NOT_DUE = "not_due"
IN_FOLLOWUP = "in_followup"
MANUAL = "manual"
PAUSED_DISPUTE = "paused_dispute"
PAUSED_PROMISE = "paused_promise"
PAUSED_ANSWERED = "paused_answered"
EXCLUDED = "excluded"
AT_AGENCY = "at_agency"
PAID = "paid"

#: statuses under which the engine may escalate an invoice
ESCALATING = (NOT_DUE, IN_FOLLOWUP)
#: statuses under which no level action runs
PAUSED = (PAUSED_DISPUTE, PAUSED_PROMISE, PAUSED_ANSWERED, EXCLUDED, AT_AGENCY)


def invoice_status(
    *,
    is_open,
    due_date,
    today,
    excluded=False,
    at_agency=False,
    disputed=False,
    promise_date=None,
    answered_until=None,
    manual_pending=False,
):
    """Return the follow-up status code of one customer invoice."""
    if not is_open:
        return PAID
    if excluded:
        return EXCLUDED
    if at_agency:
        return AT_AGENCY
    if disputed:
        return PAUSED_DISPUTE
    if promise_date and promise_date >= today:
        return PAUSED_PROMISE
    if answered_until and answered_until >= today:
        return PAUSED_ANSWERED
    if manual_pending:
        return MANUAL
    if due_date and due_date < today:
        return IN_FOLLOWUP
    return NOT_DUE
