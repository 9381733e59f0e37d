"""The Customer API's vocabularies, as the sandbox speaks them.

Enumerations the spec (github:debitura/Debitura.SDK, spec/customer-api.json) names
explicitly are copied verbatim: webhook event types, document types, advance targets,
file extensions, phases, dispute statuses. The lifecycle and close-code *labels* are the
descriptions the API returns in ``InvoiceDto.lifecycle`` / ``closeCode`` (Debitura's
own MCP server documents them in ``src/domain.ts``); their enum *names* are what the
``Statuses`` filter and the sandbox control API accept. Close-code names other than
``Paid`` and ``PreLegalExhaustedNoPayment`` are not in the spec: the sandbox chose them.
"""

# Lifecycle enum name -> label returned by the API, in the enum's order (the order the
# ``Lifecycle`` sort field uses).
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
FINISHED_LIFECYCLES = frozenset({"Closed", "Merged"})

# Close-code name -> label returned by the API, in the enum's order.
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

PHASES = ("Pre-legal", "Legal", "Enforcement")

DISPUTE_STATUSES = (
    "Yes, the claim is disputed",
    "No, the claim is not disputed",
    "Don't Know",
)

WEBHOOK_EVENTS = (
    "case.created",
    "case.updated",
    "case.closed",
    "payment.created",
    "payment.deleted",
    "chat.created",
)

ADVANCE_TARGETS = ("Active", "Closed:Paid", "Closed:NoPayment")

DOCUMENT_TYPES = (
    "OriginalInvoice",
    "DebtorDocuments",
    "CreditorDocuments",
    "PartnerDocuments",
    "DemandLetter",
    "Miscellaneous",
)
FILE_EXTENSIONS = frozenset(
    {".pdf", ".xls", ".xlsx", ".csv", ".txt", ".jpg", ".jpeg", ".png", ".gif"}
)
MAX_FILE_BYTES = 25 * 1024 * 1024

# ChatRole enum: 0=Partner, 1=Creditor, 2=ManagedByPartner.
CHAT_ROLES = {0: "Partner", 1: "Creditor", 2: "Managed by partner"}
ROLE_PARTNER = 0
ROLE_CREDITOR = 1

# PaymentDto.recipient values (the spec types it as a free string; sandbox choice).
RECIPIENTS = ("CollectionPartner", "Creditor")

SORT_FIELDS = {
    "datecreated": "date_created",
    "dateupdated": "date_updated",
    "datefinished": "date_finished",
    "datecollectionstarted": "date_collection_started",
    "duedate": "due_date",
    "date": "invoice_date",
    "grossamount": "gross_cents",
    "remainder": "remainder_cents",
    "interestfees": "interest_cents",
    "collectionfees": "collection_fee_cents",
    "reminderfees": "reminder_fee_cents",
    "lifecycle": "lifecycle_rank",
    "closecode": "close_code_rank",
}


def lifecycle_name(value):
    """Lifecycle enum name for a name or label (case-insensitive), or None."""
    wanted = (value or "").strip().lower()
    for name, label in LIFECYCLES.items():
        if wanted in (name.lower(), label.lower()):
            return name
    return None


def close_code_name(value):
    """Close-code enum name for a name or label (case-insensitive), or None."""
    wanted = (value or "").strip().lower()
    for name, label in CLOSE_CODES.items():
        if wanted in (name.lower(), label.lower()):
            return name
    return None


def rank(enumeration, name):
    """Position of ``name`` in an enumeration dict, used to sort by enum order."""
    return list(enumeration).index(name) if name in enumeration else -1
