"""Amounts typed by customers in the portal, the way Europeans type them.

"1 500,00", "1.500,00", "1'500.00", "1,500.00" and "1500" all mean one thousand
five hundred. A separator followed by exactly three digits groups thousands; the
last separator followed by one or two digits is the decimal point. Anything else
(letters, "1e308", "inf", "NaN", an empty field) is refused with a reason code that
the caller turns into a message, so that a typing slip never becomes a 500 or a
dispute of the wrong amount.
"""

import math
import re

#: no invoice of a small or mid-sized company comes near this
MAX_AMOUNT = 10**12

ERR_EMPTY = "empty"
ERR_NEGATIVE = "negative"
ERR_NOT_A_NUMBER = "not_a_number"
ERR_TOO_LARGE = "too_large"

_SPACES = re.compile(r"[\s\u00a0\u202f'’]")
_DIGITS_AND_SEPARATORS = re.compile(r"^\d+([.,]\d+)*$")


class AmountError(ValueError):
    """A typed amount that cannot be read; ``code`` says why."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def parse_amount(text):
    """The amount ``text`` means, as a float; raise :class:`AmountError`."""
    compact = _SPACES.sub("", str(text or ""))
    if not compact:
        raise AmountError(ERR_EMPTY)
    if compact.startswith("-") and _DIGITS_AND_SEPARATORS.match(compact[1:]):
        raise AmountError(ERR_NEGATIVE)
    if not _DIGITS_AND_SEPARATORS.match(compact):
        raise AmountError(ERR_NOT_A_NUMBER)
    groups = re.split(r"[.,]", compact)
    separators = re.findall(r"[.,]", compact)
    decimals = ""
    if separators and len(groups[-1]) != 3 or len(set(separators)) > 1:
        if len(groups[-1]) > 2 or separators.count(separators[-1]) > 1:
            raise AmountError(ERR_NOT_A_NUMBER)
        decimals = groups.pop()
    grouped = len(groups) > 1
    if grouped and (
        not 1 <= len(groups[0]) <= 3
        or groups[0].startswith("0")
        or any(len(group) != 3 for group in groups[1:])
    ):
        raise AmountError(ERR_NOT_A_NUMBER)
    value = float("".join(groups) + ("." + decimals if decimals else ""))
    if not math.isfinite(value) or value > MAX_AMOUNT:
        raise AmountError(ERR_TOO_LARGE)
    return value
