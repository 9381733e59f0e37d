"""What a payment collected by an agency settles, and what the agency keeps.

Plain functions over plain values: the model gathers a case's open invoices,
calls :func:`allocate` and :func:`success_fee`, then books and reconciles the
result. Amounts are computed in decimals on the currency's rounding, so that a
sum of shares is the amount, to the cent.

Allocation rules:

- the invoice the agency names (by its reference) is settled first, then the
  others by oldest due date (then in the order given);
- an invoice never receives more than its residual;
- what no invoice can take stays unallocated, and is reported: it remains an
  outstanding credit of the debtor.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

#: who received the money, as the agency names it -> our ``recipient`` value
RECIPIENT_AGENCY = "agency"
RECIPIENT_COMPANY = "company"
_RECIPIENTS = {
    "collectionpartner": RECIPIENT_AGENCY,
    "partner": RECIPIENT_AGENCY,
    "agency": RECIPIENT_AGENCY,
    "creditor": RECIPIENT_COMPANY,
    "client": RECIPIENT_COMPANY,
}


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice of the case that still owes money, in the payment's currency."""

    #: the caller's key (a move id), returned in the allocation
    key: object
    reference: str | None
    due_date: date | None
    residual: float | Decimal


@dataclass(frozen=True)
class Allocation:
    """How a collected amount settles the invoices."""

    #: ``(key, amount)`` in settlement order, every amount above zero
    lines: list = field(default_factory=list)
    #: what no invoice could take
    unallocated: float = 0.0
    #: whether the reference given named one of the invoices
    reference_matched: bool = False

    @property
    def allocated(self):
        return float(sum(_dec(amount) for _key, amount in self.lines))


def recipient(value):
    """Our recipient (``agency`` or ``company``) for the agency's label, or None
    when it is not one we know."""
    key = "".join(ch for ch in str(value or "").lower() if ch.isalnum())
    return _RECIPIENTS.get(key)


def allocate(amount, invoices, reference=None, rounding=0.01):
    """Spread ``amount`` over ``invoices`` (:class:`OpenInvoice`).

    :param amount: the collected amount, zero or more
    :param reference: the invoice reference the agency gave, if any
    :param rounding: the currency's rounding (0.01 for the euro)
    :returns: an :class:`Allocation`
    :raises ValueError: on a negative amount
    """
    step = _dec(rounding)
    left = _round(_dec(amount), step)
    if left < 0:
        raise ValueError("A collected amount cannot be negative.")
    candidates = [
        (position, invoice)
        for position, invoice in enumerate(invoices)
        if _round(_dec(invoice.residual), step) > 0
    ]
    wanted = _reference_key(reference)
    named = [
        item
        for item in candidates
        if wanted and _reference_key(item[1].reference) == wanted
    ]
    rest = sorted(
        (item for item in candidates if item not in named),
        key=lambda item: (item[1].due_date or date.max, item[0]),
    )
    lines = []
    for _position, invoice in named[:1] + rest:
        if left <= 0:
            break
        share = min(left, _round(_dec(invoice.residual), step))
        lines.append((invoice.key, float(share)))
        left -= share
    return Allocation(
        lines=lines, unallocated=float(left), reference_matched=bool(named)
    )


def success_fee(amount, rate, rounding=0.01):
    """The agency's success fee on ``amount``: ``amount * rate / 100`` rounded
    half-up to the currency's ``rounding``; zero without a rate.

    :raises ValueError: on a negative rate
    """
    rate = _dec(rate)
    if rate < 0:
        raise ValueError("A success fee rate cannot be negative.")
    return float(_round(_dec(amount) * rate / 100, _dec(rounding)))


def _dec(value):
    return Decimal(str(value or 0))


def _round(value, step):
    """``value`` rounded half-up to a multiple of ``step``."""
    if step <= 0:
        return value
    return (value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def _reference_key(reference):
    return "".join(str(reference or "").split()).upper()
