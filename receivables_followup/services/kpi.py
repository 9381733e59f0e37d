"""The receivables' key figures, as plain functions over plain values.

DSO by the countback method: the receivables at the end of the period are
matched against the sales of the most recent months, going back month after
month, until they are used up; the days of the months fully used plus the
share of the last one are the days of sales outstanding. Unlike the average
method (receivables / sales x days), it does not move when sales are seasonal.
"""

#: (bucket, first day overdue, last day overdue or None) of the ageing
#: columns, as OCA's account_financial_report and the aged balances use them
AGE_BUCKETS = (
    ("not_due", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("91_plus", 91, None),
)


def age_bucket(days_overdue):
    """The ageing bucket of an item ``days_overdue`` days past its due date
    (zero or less: not due)."""
    for bucket, first, last in AGE_BUCKETS:
        if (first is None or days_overdue >= first) and (
            last is None or days_overdue <= last
        ):
            return bucket
    raise ValueError(days_overdue)


def dso_countback(receivable, periods):
    """Days of sales outstanding by the countback method.

    :param float receivable: what customers owe at the end of the period
    :param periods: ``(days, sales)`` of the months before the end, most
        recent first (the sales of each month, net of credit notes)
    :returns: the days, or None when the sales of all the periods do not
        cover the receivables (the DSO is then longer than the periods read)
    """
    if receivable <= 0:
        return 0.0
    left, days = receivable, 0.0
    for period_days, sales in periods:
        if sales <= 0:
            days += period_days
            continue
        if left <= sales:
            return days + period_days * left / sales
        left -= sales
        days += period_days
    return None


def share(part, whole):
    """``part`` as a percentage of ``whole`` (0 when there is no whole)."""
    return 100.0 * part / whole if whole else 0.0
