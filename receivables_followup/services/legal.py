"""Which late-payment law a formal notice may invoke, for which customer.

The French late-payment interest and the EUR 40 recovery indemnity (Code de
commerce L441-10 and D441-5) belong to business relationships of a company under
French law: citing them to a German or British customer, or to a consumer, is
wrong, and a policy has to say so explicitly before they are sent abroad. The EU
late-payment directive (2011/7/EU, article 3 and 6) gives other EU business
customers the equivalent: the reference rate plus at least eight points, and a
fixed EUR 40 compensation per invoice.
"""

FRENCH_LAW = "fr"
EU_DIRECTIVE = "eu"

#: policy scopes, from the narrowest
SCOPE_NONE = "none"
SCOPE_DOMESTIC = "domestic"
SCOPE_EU = "eu"
SCOPE_ALL = "all"

#: points over the ECB reference rate (L441-10: 10 points; directive: at least 8)
MARGINS = {FRENCH_LAW: 10.0, EU_DIRECTIVE: 8.0}


def legal_regime(
    scope, company_country, customer_country, customer_is_business, eu_countries
):
    """The late-payment regime of a formal notice to this customer, or None.

    :param scope: the policy's scope, one of the ``SCOPE_*`` values
    :param company_country: ISO code of the creditor company's country
    :param customer_country: ISO code of the customer's country (or None)
    :param customer_is_business: whether the customer is a company; consumers get
        no late-payment amounts under either law
    :param eu_countries: ISO codes of the EU member states
    """
    if scope == SCOPE_NONE or not customer_is_business:
        return None
    company_country = (company_country or "").upper()
    customer_country = (customer_country or "").upper()
    if company_country == "FR":
        if customer_country == "FR" or scope == SCOPE_ALL:
            return FRENCH_LAW
    if scope == SCOPE_EU and company_country in eu_countries:
        if customer_country in eu_countries:
            return EU_DIRECTIVE
    return None


def regime_rates(rates, regime):
    """The annual rates of ``regime`` from the stored rates.

    :param rates: iterable of (date_from, reference_rate, rate) where ``rate`` is
        the French rate (reference + margin, as stored)
    :returns: [(date_from, annual rate percent)]
    """
    if regime == EU_DIRECTIVE:
        return [(day, reference + MARGINS[EU_DIRECTIVE]) for day, reference, _ in rates]
    return [(day, rate) for day, _reference, rate in rates]
