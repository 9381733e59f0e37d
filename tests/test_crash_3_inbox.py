"""Crash recovery of the inbox of agency callbacks (``crash_common``).

The callbacks are delivered by the sandbox to a real Odoo server, stored, then
applied by the scheduled action, which is killed after an event's payments were
booked, and while Odoo read a case from the agency. Every payment at the agency
is booked once.
"""

import time
from collections import Counter

import pytest
from crash_common import (
    PAYMENTS_PER_CASE,
    SLOW,
    Stage,
    describe,
    drain_outbox,
    query,
    query_none,
    report,
    script,
    snapshot,
)
from odoo_processes import OdooServer, free_port

INBOX = r"""
import requests

Event = env["followup.agency.event"]
Case = type(env["followup.agency.case"])
stop, at = PARAMS.get("stop"), PARAMS.get("at")
synced = [0]
sync_original = Case._sync_agency_payments

def _sync_agency_payments(self, payments):
    synced[0] += 1
    outcome = sync_original(self, payments)
    if stop == "booked" and synced[0] == at:
        hold("booked", case=self.creditor_reference, payments=len(payments))
    return outcome

Case._sync_agency_payments = _sync_agency_payments

if stop == "in_http":
    agency_original = type(env["followup.agency"])._agency_process_event
    processed = [0]

    def _agency_process_event(self, event):
        processed[0] += 1
        if processed[0] == at:
            requests.post(
                PARAMS["base_url"] + "/_sandbox/faults",
                json={"kind": "latency", "method": "GET", "path": "/cases/*/payments",
                      "seconds": PARAMS["slow"], "count": 1},
                timeout=30,
            ).raise_for_status()
            mark("in_http", event=event.event_id, type=event.event_type)
        return agency_original(self, event)

    type(env["followup.agency"])._agency_process_event = _agency_process_event

drain(Event._cron_process_events, "inbox")
"""


def wait_for_fault(sandbox, path, timeout=SLOW + 20):
    """Wait until the sandbox's latency rule on ``path`` fired: it holds the
    request."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rules = sandbox.faults()
        if any(rule["path"] == path and rule["hits"] for rule in rules):
            return
        time.sleep(0.05)
    raise AssertionError("the sandbox never held the slowed request")


def agency_payments(world):
    """{payment id: amount} of every payment the sandbox holds on our cases."""
    payments = {}
    for _ref, agency_case_id in world.odoo_cases():
        for payment in world.sandbox.case(agency_case_id).get("payments") or []:
            if payment.get("deleted") or payment.get("isDeleted"):
                continue
            payments[payment["id"]] = payment["amountCents"] / 100
    return payments


PAYMENT_COUNTS = {
    "events": "SELECT sum(n), string_agg(state || ' ' || n, ', ' ORDER BY state) "
    "FROM (SELECT state, count(*) n FROM followup_agency_event GROUP BY state) t",
    "payments": "SELECT count(*), count(DISTINCT agency_payment_id), "
    "coalesce(sum(amount), 0), count(move_id) FROM followup_agency_payment "
    "WHERE agency_payment_id NOT LIKE 'IMP-%%'",
    "journal items of payments": "SELECT count(*), "
    "coalesce(sum(-l.amount_currency), 0) "
    "FROM account_move_line l JOIN account_account a ON a.id = l.account_id "
    "WHERE l.followup_agency_payment_id IS NOT NULL "
    "AND a.account_type = 'asset_receivable'",
}


def test_inbox_killed_while_applying_callbacks_books_each_payment_once(
    crash_agency, capsys
):
    from agency_sandbox.reference import WEBHOOK_EVENTS

    world = crash_agency
    drain_outbox(world)
    # the sandbox delivers its callbacks to the agency's address on a real Odoo
    # server, signed with the subscription's secret
    port = free_port()
    subscription = world.sandbox.subscribe_webhook(
        f"http://127.0.0.1:{port}/receivables_followup/agency/"
        f"{world.agency_id}/webhook",
        events=WEBHOOK_EVENTS,
        test_mode=True,
    )
    world.sandbox.settings(webhook_retry_delays=[0.5, 1, 2])
    query_none(
        world.database,
        "UPDATE followup_agency SET webhook_secret = %s WHERE id = %s",
        [subscription["secret"], world.agency_id],
    )
    server = OdooServer(world.database, port=port)
    try:
        for _ref, agency_case_id in world.odoo_cases():
            world.sandbox.activate(agency_case_id)
            gross = world.sandbox.case(agency_case_id)["grossCents"]
            for _ in range(PAYMENTS_PER_CASE):
                world.sandbox.register_payment(
                    agency_case_id,
                    max(round(gross * 0.1) / 100, 1.0),
                    recipient="CollectionPartner",
                )
        deliveries = world.sandbox.wait_for_webhooks(timeout=300)["deliveries"]
    finally:
        server.stop()
    paid = agency_payments(world)
    before = snapshot(world.database, PAYMENT_COUNTS)
    lines = [
        f"{len(world.odoo_cases())} cases activated at the sandbox, {len(paid)} "
        f"payments registered; the sandbox delivered {len(deliveries)} callbacks "
        f"({dict(Counter(d['state'] for d in deliveries))}) to a real Odoo server, "
        f"stored: {before['events']}; booked before processing: {before['payments']}"
    ]
    stored = int(before["events"][0])
    assert stored == len(deliveries) > 2 * len(paid) // PAYMENTS_PER_CASE

    # 1. killed after the third event's payments were booked, not committed
    stage = Stage(
        world.database, script(INBOX, **world.params(batch=10, stop="booked", at=3))
    ).run(kill_at="booked")
    assert stage.writing, "the kill did not hit a transaction at work"
    counts = snapshot(world.database, PAYMENT_COUNTS)
    lines.append(
        describe(stage) + f"; committed then: events {counts['events']}, payments "
        f"{counts['payments']}"
    )
    # 2. killed while reading a case's payments from the agency (the sandbox
    # holds the request), after earlier events of the batch were committed
    stage = Stage(
        world.database, script(INBOX, **world.params(batch=10, stop="in_http", at=4))
    ).run(
        kill_at="in_http",
        before_kill=lambda _data: wait_for_fault(world.sandbox, "/cases/*/payments"),
    )
    counts = snapshot(world.database, PAYMENT_COUNTS)
    lines.append(
        describe(stage) + f"; committed then: events {counts['events']}, payments "
        f"{counts['payments']}"
    )
    last = Stage(world.database, script(INBOX, **world.params(batch=10))).run()
    after = snapshot(world.database, PAYMENT_COUNTS)
    lines.append(f"restarted: {len(last.committed_marks())} calls to finish; {after}")
    booked = dict(
        query(
            world.database,
            "SELECT agency_payment_id, amount FROM followup_agency_payment "
            "WHERE agency_payment_id NOT LIKE 'IMP-%%'",
        )
    )
    lines.append(
        f"sandbox: {len(paid)} payments, {round(sum(paid.values()), 2)}; Odoo: "
        f"{len(booked)} booked, {round(sum(float(v) for v in booked.values()), 2)}"
    )
    report(capsys, "inbox of agency callbacks", lines)
    assert after["events"] == [str(stored), f"done {stored}"]
    assert {key: round(float(amount), 2) for key, amount in booked.items()} == {
        key: round(amount, 2) for key, amount in paid.items()
    }
    count, distinct, total, with_entry = after["payments"]
    assert count == distinct == with_entry == str(len(paid))
    assert after["journal items of payments"][0] == str(len(paid))
    assert float(after["journal items of payments"][1]) == pytest.approx(float(total))
