"""The one error every agency adapter raises, classified for the outbox."""

TRANSIENT = "transient"
RATE_LIMITED = "rate_limited"
VALIDATION = "validation"
BUSINESS = "business"
CONFLICT = "conflict"
AUTH = "auth"
NOT_FOUND = "not_found"


class AgencyError(Exception):
    """A call to an agency that did not succeed.

    :param kind: what the caller can do about it: ``transient`` (network, timeout,
        5xx: retry later), ``rate_limited`` (retry after ``retry_after`` seconds),
        ``validation`` and ``business`` (the data must change: do not retry),
        ``conflict`` (an idempotency key reused with another body: a bug),
        ``auth`` (credentials refused), ``not_found``
    :param message: the agency's own words, safe to show and log (never a secret)
    :param maybe_delivered: the request may have reached the agency although no
        answer came back: retry with the same idempotency key, or look it up
    """

    def __init__(
        self,
        kind,
        message,
        status=None,
        retry_after=None,
        field_errors=None,
        error_type=None,
        maybe_delivered=False,
    ):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.field_errors = field_errors or {}
        self.error_type = error_type
        self.maybe_delivered = maybe_delivered

    def __str__(self):
        return (
            f"{self.kind} ({self.status}): {self.message}"
            if self.status
            else self.message
        )


class WebhookRefused(Exception):
    """A callback we do not accept, with the HTTP status to answer it."""

    def __init__(self, status, title, detail):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
