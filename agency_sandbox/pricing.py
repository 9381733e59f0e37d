"""Eligibility, partner assignment and success-fee pricing of the sandbox.

The sandbox has one collection partner per covered country (a setting); a debtor in
any other country has no eligible partner, which is the 422 ``NoPartnerAvailable`` of
``POST /cases`` and ``isEligible: false`` of the preview.

Pricing follows the spec's own descriptions, which use two scales: the preview's
``ageSurchargePercentage`` adds 8 points for debts 12-24 months overdue and 15 beyond
(blended by amount for age buckets), while ``InvoiceDto.blendedAgeUpliftPoints`` uses
``((A12-A24)x10 + A24x20) / total``. Each DTO gets the formula its description gives.
"""

import uuid
from datetime import timedelta

from . import geo
from .validation import parse_day

PARTNER_NAMESPACE = uuid.UUID("8d3c1f0e-5b7a-4c2e-9f61-2a4d6b8e0c11")
OVER_6, OVER_12, OVER_24 = 180, 365, 730


def partner_for(country, covered_countries):
    """The sandbox partner covering ``country``, or None when it is not covered."""
    if country not in covered_countries:
        return None
    name = geo.COUNTRIES.get(country, country)
    slug = country.lower()
    return {
        "id": str(uuid.uuid5(PARTNER_NAMESPACE, country)),
        "name": f"Sandbox Collect {name}",
        "country": country,
        "officeEmail": f"cases.{slug}@sandbox-collect.example",
        "officePhone": "+45 70 00 00 00",
        "publicSite": f"https://{slug}.sandbox-collect.example",
    }


def partner_by_id(partner_id, covered_countries):
    """The covered partner with ``partner_id``, or None."""
    for country in covered_countries:
        partner = partner_for(country, covered_countries)
        if partner["id"] == partner_id:
            return partner
    return None


def buckets_from_lines(lines, today):
    """Age buckets (cents over 6, 12 and 24 months overdue) of dated claim lines."""
    buckets = {"over6": 0, "over12": 0, "over24": 0}
    for line in lines:
        age = (today - _as_date(line["dueDate"])).days
        for key, days in (("over6", OVER_6), ("over12", OVER_12), ("over24", OVER_24)):
            if age >= days:
                buckets[key] += line["amountCents"]
    return buckets


def buckets_from_due_date(amount_cents, due_date, today):
    """Age buckets of a single invoice of ``amount_cents`` due on ``due_date``."""
    line = {"dueDate": due_date, "amountCents": amount_cents}
    return buckets_from_lines([line], today)


def blended_points(amount_cents, buckets, per_12, per_24):
    """Amount-weighted uplift: ``((A12-A24) x per_12 + A24 x per_24) / total``."""
    if not amount_cents or not buckets or buckets.get("over12") is None:
        return 0.0
    over12, over24 = buckets["over12"], buckets.get("over24") or 0
    return round(((over12 - over24) * per_12 + over24 * per_24) / amount_cents, 2)


def invoice_uplift_points(amount_cents, buckets):
    """``InvoiceDto.blendedAgeUpliftPoints`` (0-20 points)."""
    return blended_points(amount_cents, buckets, 10, 20)


def pricing_preview(base_fee, amount_cents, currency, buckets):
    """``PricingPreviewDto`` for a debt of ``amount_cents`` aged as ``buckets``."""
    surcharge = blended_points(amount_cents, buckets, 8, 15)
    total = round(base_fee + surcharge, 2)
    return {
        "baseSuccessFeePercentage": base_fee,
        "ageSurchargePercentage": surcharge,
        "totalSuccessFeePercentage": total,
        "currencyCode": currency,
        "pricingSource": "Standard agreement",
        "pricingSourceDescription": f"{total:g}% success fee — Standard agreement "
        "(Debitura sandbox)",
    }


def exclusive_period_end(start, days):
    """End of the exclusive collection period that starts at ``start``."""
    return start + timedelta(days=days)


def _as_date(value):
    return parse_day(value) if isinstance(value, str) else value
