"""The agency's side of the soak (``bench_soak.py``): the sandbox's fault rules,
the collection partner who works the cases that appear at the sandbox, and the
replayed storm of every callback the sandbox delivered.
"""

import json
import random
from collections import Counter

from benchlib import WORK_DIR

HTTP_FAULTS = [
    ("timeout", {"seconds": 1.5}),
    ("reset", {}),
    ("status", {"status": 503}),
    ("rate_limit", {"retryAfter": 1}),
    ("lost_response", {}),
]
WEBHOOK_FAULTS = ["webhook_duplicate", "webhook_reorder", "webhook_drop"]
#: what the faults apply to: creating a case and reading cases back
FAULT_TARGETS = [("POST", "/cases"), ("GET", "/cases*")]

SANDBOX_SETTINGS = {
    "webhook_retry_delays": [0.5, 1, 2, 4, 8, 15, 30],
    "webhook_timeout": 10,
    "webhook_reorder_window": 2,
    "request_log_limit": 200000,
}


# ----------------------------------------------------------------------
# faults
# ----------------------------------------------------------------------
def shares(rate, kinds):
    """Probabilities of rules tried in turn (the first that fires wins) so that
    each of ``kinds`` fires on ``rate / len(kinds)`` of the requests."""
    each = rate / len(kinds)
    return [each / (1 - index * each) for index in range(len(kinds))]


def add_faults(sandbox, rate, webhook_rate):
    """One fault of each kind first (the first case creations, the first
    callbacks), so that every kind fires even in a small run; then the random
    rules."""
    if rate:
        for kind, params in HTTP_FAULTS:
            sandbox.add_fault(kind, method="POST", path="/cases", **params)
    if webhook_rate:
        for kind in WEBHOOK_FAULTS:
            sandbox.add_fault(kind, event="payment.created")
    for method, path in FAULT_TARGETS if rate else ():
        kinds = [kind for kind, _params in HTTP_FAULTS]
        for (kind, params), probability in zip(
            HTTP_FAULTS, shares(rate, kinds), strict=True
        ):
            sandbox.add_fault(
                kind, method=method, path=path, count=None,
                probability=probability, **params,
            )  # fmt: skip
    for kind, probability in zip(
        WEBHOOK_FAULTS, shares(webhook_rate, WEBHOOK_FAULTS), strict=True
    ):
        if webhook_rate:
            sandbox.add_fault(kind, event="*", count=None, probability=probability)


def fault_hits(sandbox):
    hits = Counter()
    for rule in sandbox.faults():
        kind = rule["kind"]
        if kind == "status":
            kind = f"{rule['status']}"
        hits[kind] += rule["hits"]
    return dict(hits)


# ----------------------------------------------------------------------
# the collection partner
# ----------------------------------------------------------------------
class Partner:
    """Activates each case that appears at the sandbox and registers its
    payments (one, two for every third case, 10 % of the claim each)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.handled = set()
        self.payments = 0

    def step(self):
        cases = self.sandbox.cases()
        for case in cases:
            if case["id"] in self.handled:
                continue
            self.sandbox.activate(case["id"])
            gross = self.sandbox.case(case["id"])["grossCents"]
            amount = max(round(gross * 0.10) / 100, 1.0)
            for _ in range(2 if len(self.handled) % 3 == 2 else 1):
                self.sandbox.register_payment(
                    case["id"], amount, recipient="CollectionPartner"
                )
                self.payments += 1
            self.handled.add(case["id"])
        return len(cases)


# ----------------------------------------------------------------------
# the replayed storm
# ----------------------------------------------------------------------
def replay_storm(server, agency_id, secret, sandbox, sandbox_root):
    """Every callback the sandbox delivered, sent again at once from 8 threads
    in a shuffled order; returns the client's figures."""
    seen = {}
    for record in sandbox.webhooks()["deliveries"]:
        if record["state"] == "delivered":
            seen.setdefault(
                record["event_id"],
                {
                    "id": record["event_id"],
                    "type": record["event_type"],
                    "body": record["payload"],
                },
            )
    events = list(seen.values())
    random.Random(20).shuffle(events)
    events_file = WORK_DIR / f"{server.db}-soak-replay.jsonl"
    with open(events_file, "w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    return server.send_webhooks(
        agency_id, secret, events_file, 8, sandbox_root, f"{server.db}-soak-replay"
    )
