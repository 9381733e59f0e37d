"""Crash recovery of the follow-up run (``crash_common`` says how a kill lands).

The follow-up run is killed while planning, between committed batches and in a
batch (emails queued, invoices stamped, not committed); the counts after the
restarts equal those of an uninterrupted run on a copy of the same data.
"""

from crash_common import (
    CUSTOMERS,
    FOLLOWUP_BATCH,
    Stage,
    copy_db,
    db_name,
    describe,
    drop_db,
    report,
    script,
    snapshot,
)

FOLLOWUP = r"""
Run = env["followup.run"]
History = type(env["followup.history"])
stop, at = PARAMS.get("stop"), PARAMS.get("at")
calls = [0]

if stop == "planning":
    plan_original = History._create_from_plan

    def _create_from_plan(self, *args, **kwargs):
        actions = plan_original(self, *args, **kwargs)
        hold("planning", actions_planned=len(actions))
        return actions

    History._create_from_plan = _create_from_plan

if stop == "in_batch":
    stamp_original = History._mark_invoices_performed

    def _mark_invoices_performed(self):
        done = stamp_original(self)
        if calls[0] + 1 >= at:
            hold("in_batch", actions_in_batch=len(self))
        return done

    History._mark_invoices_performed = _mark_invoices_performed

def after_commit(call, remaining):
    if stop == "between" and call >= at:
        hold("between", calls=call, remaining=remaining)

drain(Run._cron_run_followup, "follow-up", calls, after_commit)
"""


FOLLOWUP_COUNTS = {
    "runs": "SELECT count(*), sum(planned_count), string_agg(state, ',') "
    "FROM followup_run",
    "actions": "SELECT sum(n), string_agg(state || ' ' || n, ', ' ORDER BY state) "
    "FROM (SELECT state, count(*) n FROM followup_history GROUP BY state) t",
    "customers reminded twice": "SELECT count(*) FROM (SELECT 1 FROM "
    "followup_history GROUP BY run_id, partner_id HAVING count(*) > 1) t",
    "action lines": "SELECT count(*), sum(amount_claimed) FROM followup_history_line",
    "emails queued": "SELECT count(*) FROM mail_mail",
    "messages on customers": "SELECT count(*) FROM mail_message "
    "WHERE model = 'res.partner'",
    "messages on invoices": "SELECT count(*) FROM mail_message "
    "WHERE model = 'account.move'",
    "activities": "SELECT count(*) FROM mail_activity",
    "invoices stamped today": "SELECT count(*) FROM account_move m JOIN followup_run r "
    "ON r.date = m.followup_last_date",
}


def test_followup_run_killed_three_times_sends_everything_once(crash_base_db, capsys):
    control, crashed = db_name("followup_control"), db_name("followup")
    copy_db(crash_base_db, control)
    copy_db(crash_base_db, crashed)
    try:
        Stage(control, script(FOLLOWUP, batch=FOLLOWUP_BATCH)).run()
        expected = snapshot(control, FOLLOWUP_COUNTS)
        planned = int(expected["runs"][1])
        assert planned > 3 * FOLLOWUP_BATCH, expected
        assert expected["actions"][0] == str(planned), expected
        assert expected["actions"][1] == f"done {planned}", expected

        lines = [
            f"{CUSTOMERS} customers, {3 * CUSTOMERS} invoices, {planned} actions "
            f"planned, {FOLLOWUP_BATCH} per batch; uninterrupted run: {expected}"
        ]
        stages = [
            ("planning", None),
            ("between", 3),  # the plan and two batches committed
            ("in_batch", 2),  # the second batch of this process, in flight
        ]
        for stop, at in stages:
            stage = Stage(
                crashed, script(FOLLOWUP, batch=FOLLOWUP_BATCH, stop=stop, at=at)
            ).run(kill_at=stop)
            counts = snapshot(crashed, FOLLOWUP_COUNTS)
            lines.append(
                describe(stage, f"{len(stage.committed_marks())} calls committed")
                + f"; committed then: actions {counts['actions']}, emails "
                f"{counts['emails queued']}"
            )
            if stop != "between":
                assert stage.writing, "the kill did not hit a transaction at work"
        last = Stage(crashed, script(FOLLOWUP, batch=FOLLOWUP_BATCH)).run()
        after = snapshot(crashed, FOLLOWUP_COUNTS)
        lines.append(
            f"restarted: {len(last.committed_marks())} calls to finish; {after}"
        )
        report(capsys, "follow-up run", lines)
        assert after == expected
        assert after["customers reminded twice"] == ["0"]
    finally:
        drop_db(control)
        drop_db(crashed)
