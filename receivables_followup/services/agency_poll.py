"""Where an agency's status poll resumes.

The poll reads the cases the agency changed since a cursor, the newest update
time it has seen. A change that could not be applied this time (the agency
failed on that case, or another worker held it) must be read again by the next
poll: the cursor then stays just before the oldest such change. Reading the
newer changes a second time is harmless: a change older than the one a case
last took is ignored.
"""

from datetime import timedelta

#: a cursor held back lands just before the change it must read again
EPSILON = timedelta(microseconds=1)


def next_cursor(stamps, held):
    """The cursor after a poll.

    :param stamps: the update time (naive UTC, or None) of every change read
    :param held: the update time (or None) of each change not applied
    :returns: the newest time read, held back before the oldest time of
        ``held``; None when no time was read, or when changes were held and
        none of them has a time
    """
    newest = max((stamp for stamp in stamps if stamp), default=None)
    if held and newest:
        oldest = min((stamp for stamp in held if stamp), default=None)
        newest = min(newest, oldest - EPSILON) if oldest else None
    return newest
