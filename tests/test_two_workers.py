"""Two cron workers at once: Odoo's multi-process server (``--workers 2
--max-cron-threads 2``) on one database runs the day's follow-up with its two
scheduled actions while a follow-up user presses "Run Follow-up Now" and an
accountant edits the invoices and a dispute the engine is processing.

Every reminder is sent once, the run is one run, both workers took a share of
the work, the accountant's edits are all kept (a write that met the engine's
was retried, as Odoo retries a request), and no lock is left behind.
"""

import json
import threading
import time

import pytest
import requests
from crash_common import (
    SCALE,
    Stage,
    db_name,
    drop_db,
    make_followup_db,
    query,
    query_none,
    report,
    script,
)
from odoo_processes import OdooServer, free_port

CUSTOMERS = max(60, int(150 * SCALE))
#: small slices and batches: many units of work for the two workers to share
PLAN_SLICE = 25
BATCH = 10
EDITED_INVOICES = 30
RUN_TIMEOUT = 300


class Session:
    """A user's web client: JSON-RPC calls over its own HTTP session."""

    def __init__(self, server, database, login, password):
        self.server = server
        self.http = requests.Session()
        self.call(
            "/web/session/authenticate", db=database, login=login, password=password
        )

    def call(self, path, **params):
        response = self.http.post(
            self.server.url(path),
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise AssertionError(json.dumps(body["error"])[:2000])
        return body["result"]

    def call_kw(self, model, method, *args, **kwargs):
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )


@pytest.fixture(scope="module")
def workers_db():
    name = db_name("workers")
    try:
        make_followup_db(name, CUSTOMERS)
        yield name
    finally:
        drop_db(name)


def prepare(database, edited_invoices):
    """Only the follow-up's two daily runs scheduled, not due yet; small slices
    and batches; an open dispute on an invoice of the first customers."""
    jobs = [
        job_id
        for (job_id,) in query(
            database,
            "SELECT res_id FROM ir_model_data WHERE module = 'receivables_followup' "
            "AND name IN ('ir_cron_followup_run', 'ir_cron_followup_run_second')",
        )
    ]
    assert len(jobs) == 2
    query_none(
        database,
        "UPDATE ir_cron SET active = (id = ANY(%s)); "
        "UPDATE ir_cron SET nextcall = now() + interval '1 day' WHERE id = ANY(%s); "
        "DELETE FROM ir_cron_trigger",
        [jobs, jobs],
    )
    for key, value in (
        ("receivables_followup.plan_slice", PLAN_SLICE),
        ("receivables_followup.batch_size", BATCH),
    ):
        query_none(
            database,
            "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [key, str(value)],
        )
    dispute = Stage(database, script(DISPUTE, invoice_id=edited_invoices[0])).run()
    return jobs, dispute.result["dispute_id"]


DISPUTE = r"""
invoice = env["account.move"].browse(PARAMS["invoice_id"])
dispute = env["followup.dispute"]._open_dispute(
    invoice.commercial_partner_id, {invoice: 100.0}, "quality",
    description="Opened before the run",
)
env.ref("base.user_admin").password = "admin"
env.cr.commit()
result(dispute_id=dispute.id)
"""


def wake(database, jobs):
    """Make the jobs due and wake the cron workers, as Odoo's triggers do (its
    cron workers listen in the ``postgres`` database)."""
    query_none(
        database,
        "UPDATE ir_cron SET nextcall = (now() at time zone 'UTC') "
        "- interval '1 minute' WHERE id = ANY(%s)",
        [jobs],
    )
    query_none("postgres", "SELECT pg_notify('cron_trigger', %s)", [database])


def test_two_cron_workers_share_the_run_and_lose_no_edit(workers_db, tmp_path, capsys):
    database = workers_db
    edited = query(
        database,
        """
        SELECT id FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted'
           AND invoice_date_due < current_date
         ORDER BY commercial_partner_id, id
         LIMIT %s
        """,
        [EDITED_INVOICES],
    )
    edited = [move_id for (move_id,) in edited]
    jobs, dispute_id = prepare(database, edited)
    logfile = tmp_path / "odoo.log"
    server = OdooServer(
        database,
        "--workers=2",
        "--max-cron-threads=2",
        f"--gevent-port={free_port()}",
        f"--db-filter=^{database}$",
        f"--logfile={logfile}",
        "--log-handler=odoo.addons.base.models.ir_cron:INFO",
        "--log-handler=odoo.addons.receivables_followup:INFO",
    )
    try:
        accountant = Session(server, database, "admin", "admin")
        controller = Session(server, database, "admin", "admin")
        errors = []
        last_values = {}

        def edit_while_running():
            # the accountant edits the invoices the engine reminds, round after
            # round, until the run is over
            rounds = 0
            try:
                while not done.is_set() and rounds < 20:
                    rounds += 1
                    for move_id in edited:
                        value = f"Edited {rounds} by the accountant"
                        accountant.call_kw(
                            "account.move", "write", [move_id], {"ref": value}
                        )
                        last_values[move_id] = value
                    accountant.call_kw(
                        "followup.dispute",
                        "write",
                        [dispute_id],
                        {"description": f"Edited {rounds} during the run"},
                    )
                    last_values["dispute"] = f"Edited {rounds} during the run"
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(repr(error))

        done = threading.Event()
        editor = threading.Thread(target=edit_while_running)
        start = time.monotonic()
        wake(database, jobs)
        editor.start()
        # "Run Follow-up Now" pressed while the scheduler runs
        controller.call_kw("followup.run", "action_run_followup")
        state = None
        while time.monotonic() - start < RUN_TIMEOUT:
            [(state,)] = query(
                database, "SELECT string_agg(state, ',') FROM followup_run"
            )
            if state == "done":
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        done.set()
        editor.join(120)
        waiting = query(
            database,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND wait_event_type = 'Lock'",
            [database],
        )[0][0]
    finally:
        server.stop()
    log = logfile.read_text(errors="replace")

    assert state == "done", f"the run did not finish in {RUN_TIMEOUT} s; see {logfile}"
    assert not errors, errors
    runs, planned = query(
        database, "SELECT count(*), sum(planned_count) FROM followup_run"
    )[0]
    actions = dict(
        query(database, "SELECT state, count(*) FROM followup_history GROUP BY state")
    )
    doubled_actions = query(
        database,
        "SELECT count(*) FROM (SELECT partner_id FROM followup_history "
        "GROUP BY partner_id, date HAVING count(*) > 1) doubled",
    )[0][0]
    emails, doubled_emails = query(
        database,
        """
        SELECT count(*), count(*) - count(DISTINCT msg.res_id)
          FROM mail_mail m JOIN mail_message msg ON msg.id = m.mail_message_id
         WHERE msg.model = 'res.partner'
        """,
    )[0]
    refs = dict(
        query(database, "SELECT id, ref FROM account_move WHERE id = ANY(%s)", [edited])
    )
    description = query(
        database, "SELECT description FROM followup_dispute WHERE id = %s", [dispute_id]
    )[0][0]
    stamped = query(
        database,
        # the run's date is the company's day, in its follow-up time zone,
        # which near midnight is not the database server's current_date
        "SELECT count(*) FROM account_move m JOIN followup_run r "
        "ON r.date = m.followup_last_date WHERE m.id = ANY(%s)",
        [edited],
    )[0][0]
    # what each job did, from Odoo's cron log lines
    shares = {}
    for line in log.splitlines():
        if (
            "processed" in line
            and "records remaining" in line
            and "follow-up: daily run" in line
        ):
            name = "second" if "second worker" in line else "first"
            count = int(line.split(" processed ")[1].split(" records")[0])
            shares[name] = shares.get(name, 0) + count
    retries = log.count("tries left")
    report(
        capsys,
        "two cron workers",
        [
            f"{CUSTOMERS} customers; slices of {PLAN_SLICE}, batches of {BATCH}; "
            f"run done in {elapsed:.1f} s",
            f"runs {runs}, planned {planned}, actions {actions}, emails {emails}",
            f"doubled: actions {doubled_actions}, emails {doubled_emails}",
            f"work units per job (slices' customers + actions): {shares}",
            f"accountant: {len(edited)} invoices and a dispute edited, "
            f"{len(edited) - sum(1 for k in edited if refs[k] == last_values.get(k))} "
            f"edits lost; {stamped} of those invoices reminded on the run's day",
            f"concurrency errors retried: {retries}; sessions waiting on a lock "
            f"after the run: {waiting}",
        ],
    )
    assert runs == 1
    assert planned == actions.get("done") and set(actions) == {"done"}, actions
    assert doubled_actions == 0 and doubled_emails == 0
    assert emails == planned
    # both workers took a share of the run
    assert shares.get("first") and shares.get("second"), shares
    # no edit lost, and the engine's own writes kept beside them
    assert all(refs[move_id] == last_values[move_id] for move_id in edited), refs
    assert description == f"<p>{last_values['dispute']}</p>"
    assert stamped > 0
    assert waiting == 0
    assert "Traceback" not in log, log[-4000:]
