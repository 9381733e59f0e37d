"""When to try an agency again, and when to stop trying for a while.

Exponential backoff with full jitter (a delay drawn uniformly between zero and
an exponentially growing ceiling): retries of many requests that failed together
spread out instead of hitting the agency again together. An agency's own
``Retry-After`` is a floor, never shortened.
"""

import random as _random

#: the ceiling stops growing long before this; it keeps 2**n a small float
_MAX_EXPONENT = 32


def retry_delay(
    attempt, base=30.0, cap=3600.0, retry_after=None, random=_random.random
):
    """Seconds to wait before the next try, after ``attempt`` failed tries.

    :param attempt: failed tries so far (1 after the first failure)
    :param base: ceiling after the first failure; it doubles with each failure
    :param cap: ceiling never exceeded by the jitter (``retry_after`` may)
    :param retry_after: seconds the agency asked for (``Retry-After``)
    :param random: ``() -> float in [0, 1)``, replaceable in tests
    """
    exponent = min(max(int(attempt) - 1, 0), _MAX_EXPONENT)
    ceiling = min(float(cap), float(base) * 2.0**exponent)
    delay = ceiling * random()
    if retry_after:
        delay = max(delay, float(retry_after))
    return delay


def should_pause_agency(consecutive_failures, threshold):
    """True when an agency failed ``threshold`` times in a row (network, 5xx,
    rate limits): stop calling it until someone looks. A threshold of 0 or None
    never pauses."""
    return bool(threshold) and threshold > 0 and consecutive_failures >= threshold
