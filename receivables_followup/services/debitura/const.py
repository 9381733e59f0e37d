"""Names, limits and vocabularies of Debitura's Customer API v1.

Source: ``spec/customer-api.json`` of github:debitura/Debitura.SDK. The API
returns ``InvoiceDto.lifecycle`` and ``closeCode`` as *labels* ("More Info
Required") while the ``Statuses`` filter takes enum *names*
("NeedsAdditionalDetails"); both are listed so either can be read. The spec names
the ten lifecycles but only two close codes (``Paid``,
``PreLegalExhaustedNoPayment``); the other close codes and every label are those
Debitura's MCP server documents (as the agency sandbox reproduces them).
"""

DEFAULT_BASE_URL = "https://customer-api.debitura.com"
#: (connect, read) seconds
DEFAULT_TIMEOUT = (5, 30)

API_KEY_HEADER = "XApiKey"
IDEMPOTENCY_HEADER = "Idempotency-Key"

#: oldest change first, so that a poll can resume where the previous one stopped
SORT_BY_UPDATE = "DateUpdated:asc"
PAGE_SIZE = 100

MAX_IDEMPOTENCY_KEY = 255
MAX_CREDITOR_REFERENCE = 50
MAX_COMMENTS = 4000
MAX_TAG = 100
MAX_CLAIM_LINES = 1000
MAX_CHAT_MESSAGE = 10000
MAX_FILE_BYTES = 25 * 1024 * 1024
FILE_EXTENSIONS = (
    ".pdf",
    ".xls",
    ".xlsx",
    ".csv",
    ".txt",
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
)

DEBTOR_COMPANY = "Company"
DEBTOR_PRIVATE = "Private"

#: multipart field names of ``POST /cases/{id}/files``
FILE_FIELD = "File"
FILE_DESCRIPTION_FIELD = "Description"
FILE_DOCUMENT_TYPE_FIELD = "DocumentType"
DOCUMENT_TYPES = (
    "OriginalInvoice",  # the agency's default
    "DebtorDocuments",
    "CreditorDocuments",
    "PartnerDocuments",
    "DemandLetter",
    "Miscellaneous",
)

#: ``businessErrors[0].type`` of a 422 answering a reused idempotency key
IDEMPOTENCY_CONFLICT = "IdempotencyConflict"

# Lifecycle enum name -> label the API returns, in the enum's order.
LIFECYCLES = {
    "PendingContractSigning": "Pending contract signing",
    "PendingVerificationInternal": "Pending Verification Internal",
    "PendingVerification": "Pending Verification",
    "NeedsAdditionalDetails": "More Info Required",
    "Leads": "Collecting Quotes",
    "LeadsQuoteGiven": "Pending Quote Selection",
    "Active": "Active",
    "Paused": "Paused",
    "Closed": "Closed",
    "Merged": "Merged",
}

# Close-code enum name -> label the API returns.
CLOSE_CODES = {
    "Paid": "Paid",
    "PartiallyPaid": "Partially paid",
    "DebtorInsolvent": "Debtor Insolvent/Bankrupt",
    "DebtorUntraceable": "Debtor Untraceable",
    "DisputedLegalActionDeclined": "Disputed – Legal Action Declined by Client",
    "WithdrawnByClient": "Withdrawn by Client",
    "PreLegalExhaustedNoPayment": "Pre-Legal Exhausted – No Payment",
    "StatuteOfLimitationsExpired": "Statute of Limitations Expired",
    "SettlementRejectedByClient": "Settlement Rejected by Client",
    "UnresponsiveClient": "Unresponsive Client",
    "UneconomicalToPursue": "Uneconomical to Pursue",
    "Other": "Other",
    "CaseNeverStarted": "Case never started",
    "CaseNeverStartedInternal": "Case never started - Internal",
    "InvalidCaseData": "Invalid Case Data",
    "NoQuotesReceived": "No Quotes Received",
    "QuotesExpiredNotAccepted": "Quotes Expired – Not Accepted",
}

# Our case states (followup.agency.case), one per agency situation.
DRAFT = "draft"
QUEUED = "queued"
SUBMITTED = "submitted"
NEEDS_DETAILS = "needs_details"
ACTIVE = "active"
PAUSED = "paused"
CLOSED_PAID = "closed_paid"
CLOSED_PARTLY_PAID = "closed_partly_paid"
CLOSED_UNCOLLECTABLE = "closed_uncollectable"
WITHDRAWN = "withdrawn"
REJECTED = "rejected"

#: lifecycle -> our state. Everything before collection starts is "submitted":
#: verification, contract signing and quoting are the agency's intake. ``Closed``
#: takes its state from the close code. ``Merged`` maps to None (the case keeps
#: its state): the agency folded the case into another of its cases of the same
#: debtor, so the invoices are still at the agency; releasing them, or calling
#: them paid, would both be wrong, and a person has to look.
LIFECYCLE_STATES = {
    "PendingContractSigning": SUBMITTED,
    "PendingVerificationInternal": SUBMITTED,
    "PendingVerification": SUBMITTED,
    "NeedsAdditionalDetails": NEEDS_DETAILS,
    "Leads": SUBMITTED,
    "LeadsQuoteGiven": SUBMITTED,
    "Active": ACTIVE,
    "Paused": PAUSED,
    "Closed": None,
    "Merged": None,
}

#: close code -> our state. The cause decides, not the money: a case closed as
#: uncollectable after a part payment is still uncollectable. "Withdrawn" covers
#: the closures the creditor caused (its withdrawal, a refused settlement, no
#: answer); "rejected" those where collection never started. ``Other`` and codes
#: this table does not know are judged by the amounts (see ``payloads.case_state``).
CLOSE_CODE_STATES = {
    "Paid": CLOSED_PAID,
    "PartiallyPaid": CLOSED_PARTLY_PAID,
    "DebtorInsolvent": CLOSED_UNCOLLECTABLE,
    "DebtorUntraceable": CLOSED_UNCOLLECTABLE,
    "DisputedLegalActionDeclined": CLOSED_UNCOLLECTABLE,
    "PreLegalExhaustedNoPayment": CLOSED_UNCOLLECTABLE,
    "StatuteOfLimitationsExpired": CLOSED_UNCOLLECTABLE,
    "UneconomicalToPursue": CLOSED_UNCOLLECTABLE,
    "WithdrawnByClient": WITHDRAWN,
    "SettlementRejectedByClient": WITHDRAWN,
    "UnresponsiveClient": WITHDRAWN,
    "CaseNeverStarted": REJECTED,
    "CaseNeverStartedInternal": REJECTED,
    "InvalidCaseData": REJECTED,
    "NoQuotesReceived": REJECTED,
    "QuotesExpiredNotAccepted": REJECTED,
}
