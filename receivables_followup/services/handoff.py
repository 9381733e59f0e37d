"""Which invoices may go to a collection agency, and how they group into cases.

An agency takes a claim that amicable follow-up could not recover: a posted,
unpaid customer invoice, late enough, that nobody is discussing with the customer
(a dispute, a promise to pay) and that is not already at an agency. It takes one
case per debtor and currency, above its minimum. Every invoice left out carries
the reason, so that the wizard can say why.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

NOT_POSTED = "not_posted"
NOT_INVOICE = "not_invoice"
PAID = "paid"
NOT_OVERDUE = "not_overdue"
TOO_RECENT = "too_recent"
DISPUTED = "disputed"
PROMISED = "promised"
EXCLUDED = "excluded"
AT_AGENCY = "at_agency"
CURRENCY = "currency"
BELOW_MINIMUM = "below_minimum"
NO_ADDRESS = "no_address"


@dataclass(frozen=True)
class Candidate:
    """What the rules need to know of one invoice."""

    move_id: int
    partner_id: int
    currency: str
    amount_residual: float
    due_date: date | None
    is_posted: bool = True
    is_customer_invoice: bool = True
    disputed: bool = False
    promise_date: date | None = None
    excluded: bool = False
    at_agency: bool = False
    #: the debtor has what an agency needs to reach it (name and country)
    debtor_reachable: bool = True


@dataclass(frozen=True)
class Rules:
    """The company's and the agency's conditions."""

    today: date
    #: days past the due date before an invoice may be handed over
    min_days_overdue: int = 0
    #: currencies the agency accepts; empty: all
    currencies: frozenset = frozenset()
    #: the agency's minimum claim per case, in the claim's currency
    minimum_by_currency: dict | None = None


def refusal(candidate, rules):
    """The reason an invoice cannot be handed over, or None if it can."""
    if not candidate.is_customer_invoice:
        return NOT_INVOICE
    if not candidate.is_posted:
        return NOT_POSTED
    if candidate.amount_residual <= 0:
        return PAID
    if candidate.at_agency:
        return AT_AGENCY
    if not candidate.due_date or candidate.due_date >= rules.today:
        return NOT_OVERDUE
    if (rules.today - candidate.due_date).days < rules.min_days_overdue:
        return TOO_RECENT
    if candidate.disputed:
        return DISPUTED
    if candidate.promise_date and candidate.promise_date >= rules.today:
        return PROMISED
    if candidate.excluded:
        return EXCLUDED
    if rules.currencies and candidate.currency not in rules.currencies:
        return CURRENCY
    if not candidate.debtor_reachable:
        return NO_ADDRESS
    return None


def split(candidates, rules):
    """Group the eligible invoices into claims, one per debtor and currency.

    :returns: ``(claims, refused)``: ``claims`` maps ``(partner_id, currency)`` to
        its candidates, oldest due date first; ``refused`` maps each invoice left
        out (by ``move_id``) to its reason
    """
    refused = {}
    groups = defaultdict(list)
    for candidate in candidates:
        reason = refusal(candidate, rules)
        if reason:
            refused[candidate.move_id] = reason
        else:
            groups[(candidate.partner_id, candidate.currency)].append(candidate)
    minimum = rules.minimum_by_currency or {}
    claims = {}
    for key, members in groups.items():
        total = sum(member.amount_residual for member in members)
        if total < minimum.get(key[1], 0.0):
            refused.update(dict.fromkeys((m.move_id for m in members), BELOW_MINIMUM))
            continue
        claims[key] = sorted(members, key=lambda m: (m.due_date, m.move_id))
    return claims, refused
