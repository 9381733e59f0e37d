"""Crash recovery of the outbox of hand-offs to the agency (``crash_common``).

The outbox is killed while the sandbox (a real HTTP server) held a case creation
(which it completed after Odoo died), after the sandbox answered and before
Odoo committed (the retry is replayed by its idempotency key), and the same with
the sandbox's idempotency record expired (the retry finds the case by its
creditor reference). The sandbox holds one case per Odoo case.
"""

import time
from collections import Counter

from crash_common import (
    DEBTORS,
    OUTBOX,
    SLOW,
    Stage,
    describe,
    query,
    report,
    script,
)


def wait_for_key(sandbox, key, states, timeout=SLOW + 20):
    """Wait until the sandbox holds the idempotency ``key`` in one of ``states``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in sandbox.idempotency_records():
            if record["key"] == key and record["state"] in states:
                return record
        time.sleep(0.05)
    raise AssertionError(f"the sandbox never held {key} as {states}")


def sandbox_figures(world):
    cases = world.sandbox.cases()
    references = Counter(case.get("creditorReference") for case in cases)
    posts = world.sandbox.request_log(method="POST", path="/cases")
    keys = Counter(entry["idempotencyKey"] for entry in posts)
    return {
        "cases": len(cases),
        "references twice": sum(1 for count in references.values() if count > 1),
        "POST /cases by status": dict(Counter(str(entry["status"]) for entry in posts)),
        "keys sent twice": sum(1 for count in keys.values() if count > 1),
    }


def test_outbox_killed_around_case_creations_creates_each_case_once(
    crash_agency, capsys
):
    world = crash_agency
    cases = world.odoo_cases()
    assert len(cases) >= DEBTORS and not any(agency_id for _ref, agency_id in cases)
    lines = [
        f"{DEBTORS} debtors handed over: {len(cases)} cases, requests "
        f"{world.requests()}; sandbox {sandbox_figures(world)}"
    ]

    # 1. killed while the sandbox holds the 4th creation (its key reserved); the
    # sandbox then creates the case and answers a closed connection
    held = {}

    def until_the_sandbox_holds_it(data):
        held.update(wait_for_key(world.sandbox, data["key"], ("in_flight",)))

    stage = Stage(
        world.database, script(OUTBOX, **world.params(batch=5, stop="in_http", at=4))
    ).run(kill_at="in_http", before_kill=until_the_sandbox_holds_it)
    completed = wait_for_key(world.sandbox, held["key"], ("completed",))
    lines.append(
        describe(stage)
        + f"; the sandbox then answered {completed['status']} to nobody; Odoo "
        f"{sum(1 for _r, a in world.odoo_cases() if a)} cases linked, sandbox "
        f"{sandbox_figures(world)}"
    )
    # 2. killed after the sandbox answered, before Odoo committed: the retry is
    # replayed by its idempotency key
    stage = Stage(
        world.database, script(OUTBOX, **world.params(batch=5, stop="answered", at=3))
    ).run(kill_at="answered")
    assert stage.writing, "the kill did not hit a transaction at work"
    lines.append(
        describe(stage)
        + f"; Odoo {sum(1 for _r, a in world.odoo_cases() if a)} cases linked, "
        f"sandbox {sandbox_figures(world)}"
    )
    # 3. the same, and the sandbox forgets its idempotency keys before the
    # retry: the retry meets the case by its creditor reference
    stage = Stage(
        world.database, script(OUTBOX, **world.params(batch=5, stop="answered", at=2))
    ).run(kill_at="answered")
    world.sandbox.settings(idempotency_ttl_seconds=0)
    lines.append(
        describe(stage) + f"; idempotency keys expired; Odoo "
        f"{sum(1 for _r, a in world.odoo_cases() if a)} cases linked, sandbox "
        f"{sandbox_figures(world)}"
    )
    try:
        last = Stage(world.database, script(OUTBOX, **world.params(batch=5))).run()
    finally:
        world.sandbox.settings(idempotency_ttl_seconds=86400)
    figures = sandbox_figures(world)
    cases = world.odoo_cases()
    created_notes = query(
        world.database,
        "SELECT count(*), count(DISTINCT res_id) FROM mail_message "
        "WHERE model = 'followup.agency.case' AND body LIKE %s",
        ["%Case created at the agency%"],
    )[0]
    lines.append(
        f"restarted: {len(last.committed_marks())} calls to finish; Odoo "
        f"{len(cases)} cases, {sum(1 for _r, a in cases if a)} linked, requests "
        f"{world.requests()}, 'case created' notes {created_notes[0]}; sandbox "
        f"{figures}"
    )
    report(capsys, "outbox of case creations", lines)
    at_sandbox = {
        case["creditorReference"]: case["id"] for case in world.sandbox.cases()
    }
    assert figures["references twice"] == 0
    # the three cases created at the agency while Odoo died were asked again
    # under the same key; the last one met a DuplicateCreditorReference
    assert figures["keys sent twice"] == 3
    assert figures["POST /cases by status"].get("422") == 1
    assert at_sandbox == dict(cases)
    assert world.requests() == {"create/done": len(cases)}
    assert created_notes == (len(cases), len(cases))
