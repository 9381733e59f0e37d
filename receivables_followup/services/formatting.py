"""Dates and amounts of reminders, formatted in the customer's language.

The results are those of Odoo's ``format_date`` and ``formatLang``; the difference is
that a language's settings are read once, not once per value:
a follow-up run formats hundreds of thousands of dates and amounts, and looking the
language up again each time was the largest cost of rendering a reminder.
"""

import ast

import babel.dates

from odoo.tools import float_round
from odoo.tools.misc import babel_locale_parse, get_lang, posix_to_ldml

from odoo.addons.base.models.res_lang import intersperse

NON_BREAKING_SPACE = "\N{NO-BREAK SPACE}"


class ReminderFormatter:
    """Formats values in one language; get one with :meth:`for_lang`."""

    def __init__(self, lang):
        """:param lang: the language's data, as ``get_lang`` returns it"""
        self._grouping = ast.literal_eval(lang.grouping)
        self._thousands_sep = lang.thousands_sep or ""
        self._decimal_point = lang.decimal_point
        self._locale = babel_locale_parse(lang.code)
        self._date_pattern = posix_to_ldml(lang.date_format, locale=self._locale)
        self._dates = {}

    @classmethod
    def for_lang(cls, env, lang_code):
        """The formatter of ``lang_code`` (the context's or the company's language
        when it is not installed), shared until a language changes."""
        formatter = env["res.lang"]._followup_formatter(lang_code or "")
        return formatter or cls(get_lang(env, lang_code))

    def date(self, value):
        """``value`` (a date) as Odoo's ``format_date`` shows it."""
        if not value:
            return ""
        text = self._dates.get(value)
        if text is None:
            text = self._dates[value] = babel.dates.format_date(
                value, format=self._date_pattern, locale=self._locale
            )
        return text

    def amount(self, value, currency):
        """``value`` in ``currency`` as Odoo's ``formatLang`` shows it."""
        return self.amount_in(value, currency_format(currency))

    def amount_in(self, value, money_format):
        """``value`` formatted with a :func:`currency_format`: the way to format
        many amounts of a few currencies without reading them each time."""
        digits, symbol, position = money_format
        rounded = float_round(
            value, precision_digits=digits, rounding_method="HALF-EVEN"
        )
        integer, _dot, decimals = f"{rounded:.{digits}f}".partition(".")
        integer = intersperse(integer, self._grouping, self._thousands_sep)[0]
        text = f"{integer}{self._decimal_point}{decimals}" if decimals else integer
        if not symbol:
            return text
        if position == "after":
            return f"{text}{NON_BREAKING_SPACE}{symbol}"
        return f"{symbol}{NON_BREAKING_SPACE}{text}"


def currency_format(currency):
    """(decimal places, symbol, position) of a currency, for
    :meth:`ReminderFormatter.amount_in`."""
    return currency.decimal_places, currency.symbol, currency.position


def remittance_information(references, max_length):
    """The references a transfer pays, joined, within the bank's ``max_length``:
    the references that do not fit are left out and the text ends with "…", so
    that what is quoted is never a cut reference."""
    text = ""
    for reference in references:
        candidate = f"{text} {reference}" if text else reference
        if len(candidate) > max_length - 2:
            return f"{text} …" if text else reference[: max_length - 1] + "…"
        text = candidate
    return text
