"""The words of an agency's report: its row kinds, statuses, closing reasons
and recipients, in French or English (or Debitura's own), read as ours.

Words are compared normalised (lower case, no accents, dashes and underscores
as spaces), so that "Clôture", "cloture" and "CLOTURE" are one word.
"""

import re
import unicodedata

from .debitura import const, payloads

# row kinds
STATUS = "status"
PAYMENT = "payment"
REVERSAL = "reversal"
CLOSING = "closing"
KINDS = (STATUS, PAYMENT, REVERSAL, CLOSING)

_KIND_WORDS = {
    STATUS: ("status", "statut", "status change", "changement de statut", "etat"),
    PAYMENT: ("payment", "paiement", "encaissement", "versement", "collected"),
    REVERSAL: (
        "reversal",
        "reversed",
        "payment reversed",
        "annulation",
        "paiement annule",
        "contrepassation",
        "extourne",
    ),
    CLOSING: ("closing", "closed", "close", "cloture", "fermeture"),
}

#: a status row's word -> our open state (Debitura's lifecycles are understood too)
_STATUS_WORDS = {
    const.SUBMITTED: (
        "submitted",
        "received",
        "pending",
        "new",
        "soumis",
        "recu",
        "en attente",
        "nouveau",
    ),
    const.NEEDS_DETAILS: (
        "needs details",
        "more info required",
        "information required",
        "informations requises",
        "pieces manquantes",
        "incomplet",
    ),
    const.ACTIVE: (
        "active",
        "in progress",
        "open",
        "collecting",
        "actif",
        "en cours",
        "ouvert",
        "recouvrement en cours",
    ),
    const.PAUSED: ("paused", "on hold", "en pause", "suspendu", "suspended"),
}

#: a closing row's reason -> Debitura's close code, whose state and dispute
#: handling the case already knows (``const.CLOSE_CODE_STATES``)
_CLOSE_WORDS = {
    "Paid": ("paid", "paid in full", "paye", "solde", "regle", "paiement total"),
    "PartiallyPaid": (
        "partly paid",
        "partially paid",
        "partiellement paye",
        "paiement partiel",
    ),
    "DebtorInsolvent": ("insolvent", "bankrupt", "insolvable", "faillite"),
    "DebtorUntraceable": ("untraceable", "introuvable", "npai"),
    "DisputedLegalActionDeclined": ("disputed", "conteste", "litige"),
    "WithdrawnByClient": ("withdrawn", "retire", "retrait", "abandon creancier"),
    "PreLegalExhaustedNoPayment": (
        "uncollectable",
        "irrecouvrable",
        "no payment",
        "sans paiement",
        "echec",
    ),
    "UneconomicalToPursue": ("uneconomical", "non rentable"),
    "CaseNeverStarted": ("rejected", "refused", "rejete", "refuse"),
}

#: who received the money -> the agency's word ``agency_booking.recipient`` reads
_RECIPIENT_WORDS = {
    "agency": ("agency", "agence", "collection agency", "cabinet", "partner"),
    "creditor": (
        "creditor",
        "company",
        "client",
        "creancier",
        "entreprise",
        "societe",
        "direct",
        "paiement direct",
    ),
}


def normalise(text):
    """``"Motif de clôture"`` -> ``"motif de cloture"``: lower case, no accents,
    dashes and underscores as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[\s_\-]+", " ", text.lower())
    return text.strip()


def _vocabulary(words_by_value):
    return {
        normalise(word): value
        for value, words in words_by_value.items()
        for word in words
    }


_KINDS = _vocabulary(_KIND_WORDS)
_STATUSES = _vocabulary(_STATUS_WORDS)
_CLOSINGS = _vocabulary(_CLOSE_WORDS)
_RECIPIENTS = _vocabulary(_RECIPIENT_WORDS)


def row_kind(value):
    """Our row kind for the agency's word, or None."""
    return _KINDS.get(normalise(value))


def status_state(value):
    """Our open state for a status row's word (ours, French, English or a
    Debitura lifecycle), or None when we do not know it."""
    state = _STATUSES.get(normalise(value))
    if state:
        return state
    lifecycle = payloads.lifecycle_name(value)
    if lifecycle and lifecycle not in ("Closed", "Merged"):
        return const.LIFECYCLE_STATES.get(lifecycle)
    return None


def close_code(value):
    """``(state, close code label)`` for a closing reason, or ``(None, None)``."""
    name = payloads.close_code_name(value) or None
    if name is None:
        name = next(
            (code for word, code in _CLOSINGS.items() if word == normalise(value)),
            None,
        )
    state = const.CLOSE_CODE_STATES.get(name)
    if not state:
        return None, None
    return state, const.CLOSE_CODES[name]


def recipient_value(value):
    """``agency`` or ``creditor`` for who received a payment, or None."""
    return _RECIPIENTS.get(normalise(value))
