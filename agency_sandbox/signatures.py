"""Webhook signatures as Debitura computes them.

``X-Debitura-Signature: t=<unix seconds>,v1=<lowercase hex>`` where the hex is
HMAC-SHA256 over ``"{t}.{raw body}"`` keyed with the *base64-decoded* subscription
secret. A receiver must sign the raw bytes it received (re-serialised JSON changes the
bytes), compare in constant time, and refuse timestamps more than 300 seconds away from
its clock so that a captured delivery cannot be replayed later.

A header may carry several ``v1=`` values: while a secret is being rotated the sender
signs with the new and the previous secret, and a receiver accepts the delivery if any
of them matches any secret it holds. This module is self-contained on purpose: the
sandbox signs with it and its tests verify with it, without importing the addon.
"""

import base64
import hashlib
import hmac
import secrets
import time

TOLERANCE_SECONDS = 300
SCHEME = "v1"


def new_secret(size=32):
    """Return a fresh random secret, base64-encoded as Debitura hands it out."""
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def compute_signature(secret_b64, timestamp, raw_body):
    """Hex HMAC-SHA256 of ``"{timestamp}.{raw_body}"`` keyed with the decoded secret.

    :param str secret_b64: the subscription secret as returned by ``POST /webhooks``
    :param int timestamp: unix seconds, the header's ``t``
    :param bytes raw_body: the exact request body bytes
    """
    key = base64.b64decode(secret_b64)
    signed = str(int(timestamp)).encode("ascii") + b"." + bytes(raw_body)
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def signature_header(secrets_b64, raw_body, timestamp=None):
    """Build the ``X-Debitura-Signature`` value, one ``v1=`` per secret given.

    :param secrets_b64: one secret (str) or several (list), newest first
    :return: ``t=<timestamp>,v1=<hex>[,v1=<hex>...]``
    """
    if isinstance(secrets_b64, str):
        secrets_b64 = [secrets_b64]
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    parts = [f"t={stamp}"]
    parts += [f"{SCHEME}={compute_signature(s, stamp, raw_body)}" for s in secrets_b64]
    return ",".join(parts)


def parse_signature_header(header):
    """Split a signature header into ``(timestamp or None, [v1 signatures])``.

    Unknown schemes and malformed parts are ignored rather than rejected, so that a
    future ``v2=`` added by the sender does not break an older receiver.
    """
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value.lower())
    return timestamp, signatures


def verify_signature(
    secrets_b64, raw_body, header, now=None, tolerance=TOLERANCE_SECONDS
):
    """True when ``header`` signs ``raw_body`` with one of ``secrets_b64`` in time.

    :param secrets_b64: one secret (str) or the secrets a receiver currently accepts
    :param bytes raw_body: the exact bytes received
    :param str header: the ``X-Debitura-Signature`` value
    :param float now: current unix time (defaults to the clock), for tests
    :param int tolerance: accepted distance in seconds between ``t`` and ``now``
    """
    timestamp, signatures = parse_signature_header(header)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    if isinstance(secrets_b64, str):
        secrets_b64 = [secrets_b64]
    matched = False
    for secret in secrets_b64:
        expected = compute_signature(secret, timestamp, raw_body)
        for candidate in signatures:
            # Every comparison runs, so the time taken does not reveal which matched.
            matched |= hmac.compare_digest(expected, candidate)
    return matched
