"""Rules of the dispute workflow, over plain values.

A dispute moves open -> under review -> resolved (by credit note, by correction, or
rejected) or cancelled. The functions below say which moves are allowed and whether
a disputed amount is acceptable; they return error codes that the model turns into
translated messages, so that the rules can be read and tested without a database.
"""

OPEN = "open"
UNDER_REVIEW = "under_review"
RESOLVED = "resolved"
CANCELLED = "cancelled"

#: states in which a dispute pauses the follow-up of its invoices
ACTIVE = (OPEN, UNDER_REVIEW)

#: target state -> states it may be reached from
TRANSITIONS = {
    UNDER_REVIEW: (OPEN,),
    RESOLVED: ACTIVE,
    CANCELLED: ACTIVE,
}

CREDIT_NOTE = "credit_note"
CORRECTION = "correction"
REJECTED = "rejected"
RESOLUTIONS = (CREDIT_NOTE, CORRECTION, REJECTED)

#: invoice payment states under which an invoice may still be disputed
DISPUTABLE_PAYMENT_STATES = ("not_paid", "partial")

# Error codes returned by the checks below.
ERR_TRANSITION = "transition"
ERR_AMOUNT_NOT_POSITIVE = "amount_not_positive"
ERR_AMOUNT_TOO_LARGE = "amount_too_large"
ERR_INVOICE_NOT_CUSTOMER = "invoice_not_customer"
ERR_INVOICE_NOT_POSTED = "invoice_not_posted"
ERR_INVOICE_CLOSED = "invoice_closed"
ERR_INVOICE_OTHER_PARTNER = "invoice_other_partner"
ERR_NO_INVOICE = "no_invoice"
ERR_REJECTION_REASON = "rejection_reason"
ERR_NO_CREDIT_NOTE = "no_credit_note"
ERR_UNKNOWN_RESOLUTION = "unknown_resolution"


def transition_error(current, target):
    """Return ERR_TRANSITION when ``current`` may not move to ``target``, else None."""
    if current not in TRANSITIONS.get(target, ()):
        return ERR_TRANSITION
    return None


def is_active(state):
    """Whether a dispute in ``state`` pauses its invoices."""
    return state in ACTIVE


def invoice_error(*, move_type, state, payment_state, partner_id, dispute_partner_id):
    """Return the error code that forbids disputing an invoice, or None."""
    if move_type not in ("out_invoice", "out_receipt"):
        return ERR_INVOICE_NOT_CUSTOMER
    if state != "posted":
        return ERR_INVOICE_NOT_POSTED
    if payment_state not in DISPUTABLE_PAYMENT_STATES:
        return ERR_INVOICE_CLOSED
    if partner_id != dispute_partner_id:
        return ERR_INVOICE_OTHER_PARTNER
    return None


def amount_error(amount, residual, already_disputed=0.0, rounding=0.01):
    """Return the error code for a disputed ``amount`` of an invoice, or None.

    :param amount: the amount disputed on this line, invoice currency
    :param residual: what the customer still owes on the invoice
    :param already_disputed: what other active disputes already contest on it
    :param rounding: the currency's rounding, to compare amounts
    """
    if amount < rounding / 2:
        return ERR_AMOUNT_NOT_POSITIVE
    if amount + already_disputed - residual > rounding / 2:
        return ERR_AMOUNT_TOO_LARGE
    return None


def resolution_error(resolution, rejection_reason=None, credit_note_count=0):
    """Return the error code that forbids closing with ``resolution``, or None.

    A rejection must say why; a credit-note resolution needs its credit note(s).
    """
    if resolution not in RESOLUTIONS:
        return ERR_UNKNOWN_RESOLUTION
    if resolution == REJECTED and not (rejection_reason or "").strip():
        return ERR_REJECTION_REASON
    if resolution == CREDIT_NOTE and not credit_note_count:
        return ERR_NO_CREDIT_NOTE
    return None


def is_partial(amount, residual, rounding=0.01):
    """Whether ``amount`` is less than the whole ``residual``."""
    return residual - amount > rounding / 2


def pauses_invoice(disputed, residual, partial_escalates, min_share, rounding=0.01):
    """Whether active disputes of ``disputed`` pause an invoice of ``residual``.

    A dispute of the whole residual pauses the invoice. A partial dispute pauses
    it too, unless the company lets the undisputed part escalate, or the
    dispute is below the policy's minimum share of the invoice: a dispute of
    0.01 does not stop the follow-up of 1,000.00.

    :param min_share: percent of the residual below which the rest escalates
    """
    if residual - disputed <= rounding / 2:
        return True
    if partial_escalates:
        return False
    return residual > 0 and disputed * 100 >= min_share * residual
