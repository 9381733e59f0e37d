"""What a reminder claims, in the currencies the customer was invoiced in.

The engine decides in the company's currency (is the customer covered by its
credits, does the claim reach the level's minimum), because only there can amounts
of several currencies be compared. The customer, though, reads each invoice in its
own currency, and a claim of "$ 20,959.94" above a table of euro invoices is wrong.
So the deduction of the customer's credits decided in company currency is spread
back over the invoices, in their own currencies:

- a credit is used first against the invoices of its own currency, at face value,
  so that a customer invoiced 4,990 EUR who paid 1,500 EUR is asked 3,490 EUR,
  not an amount that went through two exchange rates;
- what the credits in other currencies must still cover is converted at the
  invoices' own booking rate (the rate their company-currency amounts carry), the
  largest currency first;
- within a currency, the oldest invoice is credited first, as a payment would be
  matched.
"""

from collections import defaultdict
from dataclasses import dataclass


@dataclass
class ClaimLine:
    """One invoice of a reminder: what is open on it and what is deducted."""

    invoice_id: int
    currency_id: int
    due_date: object
    residual: float  # company currency
    residual_currency: float  # invoice currency
    credit_currency: float = 0.0  # deducted from this invoice, invoice currency

    @property
    def claimed_currency(self):
        return self.residual_currency - self.credit_currency


#: company-currency amounts below this are nothing left to deduct
TOLERANCE = 0.005


def _rounded(value, digits):
    return round(value + 0.0, digits)


def spread_deduction(lines, credits, deduction, digits):
    """Spread ``deduction`` (company currency) over ``lines``, in their currencies.

    :param lines: list of :class:`ClaimLine`; their ``credit_currency`` is set
    :param credits: {currency_id: (amount in that currency, amount in company
        currency)}: the customer's unreconciled credits, positive
    :param deduction: what the credits take off this claim, company currency
    :param digits: {currency_id: decimal places}
    :returns: {currency_id: amount deducted, in that currency}
    """
    due = defaultdict(float)
    due_company = defaultdict(float)
    for line in lines:
        line.credit_currency = 0.0
        due[line.currency_id] += line.residual_currency
        due_company[line.currency_id] += line.residual
    deducted = dict.fromkeys(due, 0.0)
    remaining = _deduct_own_currency_credits(credits, due, deducted, deduction, digits)
    _deduct_at_invoice_rates(due, due_company, deducted, remaining, digits)
    for currency_id, amount in deducted.items():
        _credit_oldest_first(
            [line for line in lines if line.currency_id == currency_id],
            amount,
            digits.get(currency_id, 2),
        )
    return {cur: amount for cur, amount in deducted.items() if amount}


def _deduct_own_currency_credits(credits, due, deducted, remaining, digits):
    """Credits against invoices of their own currency, at face value.

    Adds to ``deducted`` {currency_id: amount in that currency} and returns what
    is left of ``remaining`` (company currency)."""
    for currency_id in sorted(set(credits) & set(due)):
        credit, credit_company = credits[currency_id]
        if remaining <= TOLERANCE or credit <= 0:
            continue
        rate = credit_company / credit if credit_company > 0 else 1.0
        amount = _rounded(
            min(min(credit_company, remaining) / rate, due[currency_id]),
            digits.get(currency_id, 2),
        )
        deducted[currency_id] += amount
        remaining -= amount * rate
    return remaining


def _deduct_at_invoice_rates(due, due_company, deducted, remaining, digits):
    """What is left, at the invoices' own rate, the largest currency first.

    Adds to ``deducted`` {currency_id: amount in that currency}, within what
    the invoices of each currency leave open."""
    for currency_id in sorted(due, key=lambda cur: (-due_company[cur], cur)):
        if remaining <= TOLERANCE:
            break
        rate = due_company[currency_id] / due[currency_id] if due[currency_id] else 1.0
        room = due[currency_id] - deducted[currency_id]
        amount = _rounded(
            min(room, remaining / rate if rate > 0 else room),
            digits.get(currency_id, 2),
        )
        if amount > 0:
            deducted[currency_id] += amount
            remaining -= amount * rate


def _credit_oldest_first(lines, amount, places):
    left = amount
    for line in sorted(lines, key=lambda line: (line.due_date, line.invoice_id)):
        if left <= 0:
            break
        line.credit_currency = _rounded(min(line.residual_currency, left), places)
        left = _rounded(left - line.credit_currency, places)


def totals_by_currency(lines):
    """{currency_id: (invoiced, credited, claimed)} of ``lines``, each a
    (currency_id, residual, credit) triple, in the order currencies first appear."""
    totals = {}
    for currency_id, residual, credit in lines:
        invoiced, credited, _claimed = totals.get(currency_id, (0.0, 0.0, 0.0))
        invoiced += residual
        credited += credit
        totals[currency_id] = (invoiced, credited, invoiced - credited)
    return totals
