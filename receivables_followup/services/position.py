"""A customer's position in one company: what it owes, in which currencies, at
which levels.

The customer's form reads it in the currency of its invoices: a customer invoiced
in euros reads euros, whatever currency the company keeps its books in; one
invoiced in several currencies reads the company's, with the detail by currency.
The functions take the rows of the model's grouped reads and return plain totals.
"""


def group_totals(groups, overdue_groups):
    """The grouped reads' rows sorted by customer.

    :param groups: (customer, currency, open amount, in company currency) of the
        open invoices
    :param overdue_groups: (customer, currency, level, open amount, in company
        currency) of the overdue ones
    :returns: ``due`` and ``overdue``: {customer: {currency: (amount, in company
        currency)}}; ``by_level``: {customer: {level: [(currency, amount)]}}
    """
    due, overdue, by_level = {}, {}, {}
    for partner, currency, amount, amount_company in groups:
        due.setdefault(partner, {})[currency] = (amount, amount_company)
    for partner, currency, level, amount, amount_company in overdue_groups:
        totals = overdue.setdefault(partner, {})
        previous = totals.get(currency, (0.0, 0.0))
        totals[currency] = (previous[0] + amount, previous[1] + amount_company)
        by_level.setdefault(partner, {}).setdefault(level, []).append(
            (currency, amount)
        )
    return due, overdue, by_level


def partner_totals(partner_due, partner_overdue, company_currency):
    """(currency, amount due, amount overdue) of one customer: in its invoices'
    currency when there is one, in ``company_currency`` otherwise.

    :param partner_due: {currency: (amount, in company currency)} of its open
        invoices, as :func:`group_totals` returns them
    :param partner_overdue: the same of its overdue invoices
    """
    single = len(partner_due) == 1
    currency = next(iter(partner_due)) if single else company_currency
    index = 0 if single else 1
    return (
        currency,
        sum(values[index] for values in partner_due.values()),
        sum(values[index] for values in partner_overdue.values()),
    )
