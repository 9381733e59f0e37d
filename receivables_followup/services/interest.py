"""French B2B late-payment amounts (Code de commerce L441-10 and D441-5).

Late-payment interest runs from the day after the due date at the rate in force,
simple interest on the unpaid amount, actual days over 365. The rate applicable in a
half-year is the ECB's refinancing rate on 1 January or 1 July plus 10 points; it is
stored as dated values, so an invoice late across two half-years is charged at each
half-year's rate for its own days. The fixed recovery indemnity is EUR 40 per invoice.
"""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

RECOVERY_INDEMNITY_EUR = Decimal("40.00")
DAYS_IN_YEAR = Decimal(365)


def rate_segments(rates, start, end):
    """Split the days after ``start`` up to ``end`` by the rate in force.

    :param rates: iterable of (date_from, annual_rate_percent), any order
    :returns: list of (days, rate_percent); days before the first known rate are
        charged at the first known rate (the law sets a rate for every day).
    """
    return list(_rate_segments(tuple(sorted(rates)), start, end))


@lru_cache(maxsize=4096)
def _rate_segments(ordered, start, end):
    # A formal-notice run splits thousands of invoices that share a handful of
    # due dates: the split of one period is computed once.
    if not ordered or end <= start:
        return ()
    segments = []
    day = start + timedelta(days=1)
    while day <= end:
        rate = ordered[0][1]
        next_change = None
        for date_from, value in ordered:
            if date_from <= day:
                rate = value
            elif next_change is None:
                next_change = date_from
        last_day = end if next_change is None else min(end, next_change - timedelta(1))
        segments.append(((last_day - day).days + 1, Decimal(str(rate))))
        day = last_day + timedelta(days=1)
    return tuple(segments)


def late_interest(amount, due_date, until, rates, rounding="0.01"):
    """Interest owed on ``amount`` unpaid from ``due_date`` until ``until``."""
    if not amount or not due_date or until <= due_date:
        return Decimal("0.00")
    principal = Decimal(str(amount))
    total = sum(
        (principal * rate / 100 * days / DAYS_IN_YEAR)
        for days, rate in rate_segments(rates, due_date, until)
    )
    return Decimal(total).quantize(Decimal(rounding), rounding=ROUND_HALF_UP)


def recovery_indemnity(invoice_count):
    """Fixed recovery indemnity: EUR 40 for each late invoice."""
    return RECOVERY_INDEMNITY_EUR * invoice_count


def legal_amounts(invoices, until, rates):
    """French late-payment amounts of one formal notice.

    :param invoices: iterable of (unpaid amount, due date), one per late invoice
    :returns: (interest, indemnity in EUR), both Decimal
    """
    invoices = list(invoices)
    interest = sum(
        (
            late_interest(amount, due_date, until, rates)
            for amount, due_date in invoices
        ),
        Decimal("0.00"),
    )
    return interest, recovery_indemnity(len(invoices))
