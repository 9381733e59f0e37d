"""Crash recovery: a real Odoo process killed (SIGKILL) in the middle of its work,
then restarted, finishes that work exactly once.

Each scenario drives the addon's own scheduled action from an ``odoo-bin shell``
script, as Odoo's cron runner calls it (call, commit, again while work remains).
The script prints progress markers (``RF_MARK name {json}``); the test waits for
the marker of the kill point and kills the process there, without guessing at
timings. Where the kill must land inside a transaction, the script stops at a
real point of the work (after it wrote, before it committed) and waits to be
killed; where it must land inside an HTTP call, the agency sandbox is made slow
by its fault injection and the test kills Odoo once the sandbox holds the
request. Before each kill the test reads ``pg_stat_activity``: a backend with a
transaction id is a transaction that had written, lost with the process.

1. The follow-up run: killed while planning, between committed batches and in a
   batch (emails queued, invoices stamped, not committed); the counts after the
   restarts equal those of an uninterrupted run on a copy of the same data.
2. The outbox of hand-offs to the agency (the sandbox, a real HTTP server):
   killed while the sandbox held a case creation (which it completed after Odoo
   died), after the sandbox answered and before Odoo committed (the retry is
   replayed by its idempotency key), and the same with the sandbox's idempotency
   record expired (the retry finds the case by its creditor reference). The
   sandbox holds one case per Odoo case.
3. The inbox of agency callbacks (delivered by the sandbox to a real Odoo
   server, stored, then applied by the scheduled action): killed after an
   event's payments were booked, and while Odoo read a case from the agency.
   Every payment at the agency is booked once.
4. The import of agency report files from a report folder: killed while a
   file's payments were being booked, after a file was moved to done/, and
   before it was moved. Every row is applied once.

Each scenario prints what was killed when and the counts before and after.
Sizes: ``RF_CRASH_SCALE`` (default 1) multiplies them.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from odoo_processes import OdooServer, free_port, odoo_command, run_odoo

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULT = "RF_RESULT "
MARK = "RF_MARK "

sys.path.insert(0, str(REPO))
from agency_sandbox.testing import SandboxProcess  # noqa: E402

SCALE = float(os.environ.get("RF_CRASH_SCALE", "1"))
#: bench customers and their open invoices (3 each), made in SQL
CUSTOMERS = max(40, int(150 * SCALE))
#: follow-up actions performed per call of the scheduled action
FOLLOWUP_BATCH = max(5, int(15 * SCALE))
#: debtors handed to the agency, and the payments the agency collects on each case
DEBTORS = max(6, int(16 * SCALE))
PAYMENTS_PER_CASE = 2
#: report files dropped in the agency's folder, and payment rows in each
REPORT_FILES = 4
REPORT_ROWS = max(20, int(60 * SCALE))
#: how long the sandbox holds a request it was told to slow down, in seconds
SLOW = 6.0
#: how long a script waits at a kill point before giving up (it is killed long before)
HOLD = 300
PROCESS_TIMEOUT = 600

# ----------------------------------------------------------------------
# the shell scripts
# ----------------------------------------------------------------------
PRELUDE = r"""
import json, sys, time
sys.path.insert(0, BENCH)

def mark(name, **data):
    print("RF_MARK " + name + " " + json.dumps(data, default=str), flush=True)

def hold(name, **data):
    # the kill point: what this transaction wrote is sent to the database, not
    # committed; the test kills the process while it waits here
    env.flush_all()
    mark(name, **data)
    time.sleep(HOLD)
    raise SystemExit(f"{name}: not killed")

def result(**data):
    print("RF_RESULT " + json.dumps(data, default=str), flush=True)
"""

SEED = r"""
from followup_worker import mode_seed
seed = mode_seed(env, None)
env.cr.commit()
result(**seed)
"""

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

while True:
    done, remaining = Run._cron_run_followup(batch_size=PARAMS["batch"])
    env.cr.commit()
    env.invalidate_all()
    calls[0] += 1
    mark("committed", call=calls[0], done=done, remaining=remaining)
    if stop == "between" and calls[0] >= at:
        hold("between", calls=calls[0], remaining=remaining)
    if not remaining:
        break
    if not done:
        raise SystemExit(f"the follow-up made no progress, {remaining} pending")
result(calls=calls[0])
"""

AGENCY_SETUP = r"""
from types import SimpleNamespace
from handoff_worker import give_addresses, spread_tied_due_dates
from webhook_worker import booking_setup, create_agency

give_addresses(env)
spread_tied_due_dates(env)
agency = create_agency(env, SimpleNamespace(**PARAMS)).sudo()
booking_setup(env, agency)
env.cr.commit()

admin = env.ref("base.user_admin")
uenv = env(user=admin.id, context={"allowed_company_ids": [admin.company_id.id]})
moves = uenv["account.move"].search(
    [("partner_id.ref", "=like", "BENCH%"), ("move_type", "=", "out_invoice"),
     ("state", "=", "posted")],
    order="partner_id, id",
)
debtors = sorted(set(moves.commercial_partner_id.ids))[: PARAMS["debtors"]]
Wizard = uenv["followup.handoff.wizard"]
for start in range(0, len(debtors), 8):
    chunk = set(debtors[start : start + 8])
    wizard = Wizard.browse(Wizard._open_for(
        moves.filtered(lambda move: move.commercial_partner_id.id in chunk)
    )["res_id"])
    if wizard.preview_message:
        raise SystemExit(f"preview failed: {wizard.preview_message}")
    wizard.action_confirm()
    env.cr.commit()
result(agency_id=agency.id)
"""

OUTBOX = r"""
import requests
from odoo.addons.receivables_followup.services.debitura import client

Request = env["followup.agency.request"]
stop, at = PARAMS.get("stop"), PARAMS.get("at")
posts = [0]
create_original = client.DebituraClient.create_case

def create_case(self, body, idempotency_key):
    posts[0] += 1
    if stop == "in_http" and posts[0] == at:
        # the sandbox holds the next case creation SLOW seconds after it reserved
        # its idempotency key, then creates the case and answers
        requests.post(
            PARAMS["base_url"] + "/_sandbox/faults",
            json={"kind": "latency", "method": "POST", "path": "/cases",
                  "seconds": PARAMS["slow"], "count": 1},
            timeout=30,
        ).raise_for_status()
        mark("in_http", reference=body["creditorReference"], key=idempotency_key)
    answer = create_original(self, body, idempotency_key)
    if stop == "answered" and posts[0] == at:
        hold("answered", reference=body["creditorReference"], case=answer.get("id"))
    return answer

client.DebituraClient.create_case = create_case

calls = 0
while True:
    done, remaining = Request._cron_send_requests(batch_size=PARAMS["batch"])
    env.cr.commit()
    env.invalidate_all()
    calls += 1
    mark("committed", call=calls, done=done, remaining=remaining)
    if not remaining:
        break
    if not done:
        raise SystemExit(f"the outbox made no progress, {remaining} due")
result(calls=calls)
"""

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

calls = 0
while True:
    done, remaining = Event._cron_process_events(batch_size=PARAMS["batch"])
    env.cr.commit()
    env.invalidate_all()
    calls += 1
    mark("committed", call=calls, done=done, remaining=remaining)
    if not remaining:
        break
    if not done:
        raise SystemExit(f"the inbox made no progress, {remaining} received")
result(calls=calls)
"""

IMPORT = r"""
from odoo.addons.receivables_followup.models import followup_agency_import

Agency = type(env["followup.agency"])
Pending = followup_agency_import._PendingPayments
stop, at = PARAMS.get("stop"), PARAMS.get("at")
imported = [0]
book_original = Pending._book
move_original = Agency._move_report
file_original = Agency._import_report_file

def _import_report_file(self, path, *args, **kwargs):
    imported[0] += 1
    mark("importing", file=path.name, nth=imported[0])
    return file_original(self, path, *args, **kwargs)

def _book(self, rows):
    booked = book_original(self, rows)
    if stop == "booking" and imported[0] == at:
        hold("booking", rows=len(rows))
    return booked

def _move_report(self, path, subfolder):
    if stop == "before_move" and imported[0] == at:
        hold("before_move", file=path.name)
    target = move_original(self, path, subfolder)
    if stop == "moved" and imported[0] == at:
        hold("moved", file=path.name, to=str(target))
    return target

Agency._import_report_file = _import_report_file
Pending._book = _book
Agency._move_report = _move_report

done = env["followup.agency"]._cron_import_report_folders()
env.cr.commit()
result(files=done)
"""


# ----------------------------------------------------------------------
# processes and databases
# ----------------------------------------------------------------------
def script(body, **params):
    header = (
        f"BENCH = {str(BENCH)!r}\nHOLD = {HOLD}\n"
        f"PARAMS = json.loads({json.dumps(params)!r})\n"
    )
    return "import json\n" + header + PRELUDE + body


class Stage:
    """One Odoo shell process running a script: to its end, or killed at a
    marker. ``marks`` are the markers it printed, ``killed`` the marker it was
    killed at, ``writing`` whether it held a transaction that had written."""

    def __init__(self, database, text):
        self.database = database
        self.text = text
        self.marks = []
        self.output = []
        self.killed = None
        self.writing = None
        self.result = None

    def run(self, kill_at=None, before_kill=None):
        process = subprocess.Popen(
            odoo_command(self.database, "shell", "--no-http"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        watchdog = threading.Timer(PROCESS_TIMEOUT, process.kill)
        watchdog.start()
        try:
            process.stdin.write(self.text)
            process.stdin.close()
            for line in process.stdout:
                self.output.append(line)
                if line.startswith(RESULT):
                    self.result = json.loads(line[len(RESULT) :])
                if not line.startswith(MARK):
                    continue
                name, _, data = line[len(MARK) :].partition(" ")
                self.marks.append((name, json.loads(data)))
                if name == kill_at:
                    if before_kill:
                        before_kill(self.marks[-1][1])
                    self.writing = writing_transactions(self.database)
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()
                    self.killed = self.marks[-1]
                    wait_for_backends(self.database)
                    return self
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        tail = "".join(self.output[-60:])
        assert kill_at is None, f"never reached {kill_at}:\n{tail}"
        assert process.returncode == 0 and self.result is not None, tail
        return self

    def committed_marks(self):
        return [data for name, data in self.marks if name == "committed"]


def writing_transactions(database):
    """How many backends of ``database`` (other than ours) are in a transaction
    that has written (PostgreSQL gave it a transaction id)."""
    with connect(database) as connection, connection.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
            [database],
        )
        return cr.fetchone()[0]


def wait_for_backends(database, timeout=30):
    """Wait until PostgreSQL noticed the killed process (its transaction rolled
    back, its locks released)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connect(database) as connection, connection.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()",
                [database],
            )
            if not cr.fetchone()[0]:
                return
        time.sleep(0.1)
    raise AssertionError(f"the killed process's backends still run on {database}")


def connect(database):
    connection = psycopg2.connect(dbname=database)
    connection.autocommit = True
    return connection


def query(database, sql, params=None):
    with connect(database) as connection, connection.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchall()


def query_none(database, sql, params=None):
    with connect(database) as connection, connection.cursor() as cr:
        cr.execute(sql, params)


def filestore(name):
    data_dir = os.environ.get("RF_DATA_DIR")
    return Path(data_dir) / "filestore" / name if data_dir else None


def drop_db(name):
    if os.environ.get("RF_CRASH_KEEP_DB"):
        return
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    store = filestore(name)
    if store:
        shutil.rmtree(store, ignore_errors=True)


def copy_db(template, name):
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    if filestore(name):
        shutil.rmtree(filestore(name), ignore_errors=True)
    subprocess.run(["createdb", "-T", template, name], check=True)
    source, target = filestore(template), filestore(name)
    if source and source.is_dir():
        shutil.copytree(source, target)


def db_name(suffix):
    return f"{os.environ.get('RF_DB_PREFIX', 'rf_pytest_')}crash_{suffix}"


def report(capsys, title, lines):
    """The scenario's figures, on the terminal even when pytest captures."""
    with capsys.disabled():
        print(f"\n== crash recovery: {title}")
        for line in lines:
            print(f"   {line}")


def describe(stage, committed=""):
    name, data = stage.killed
    where = "in a transaction that had written" if stage.writing else "between"
    if not stage.writing:
        where += " transactions (nothing uncommitted)"
    return f"killed at '{name}' {json.dumps(data)}, {where}; {committed}".rstrip("; ")


# ----------------------------------------------------------------------
# fixtures
# ----------------------------------------------------------------------
def make_followup_db(name, customers, scenario="fresh"):
    """The addon installed without demo data in ``name``, the bench's seed (EUR
    company, a policy without manual review nor letters) and ``customers``
    customers with three open invoices each, due 1 to 120 days ago, made in SQL
    by bench/datagen.py."""
    template = os.environ.get("RF_TEMPLATE_DB")
    if template:
        copy_db(template, name)
    else:
        drop_db(name)
        subprocess.run(["createdb", name], check=True)
    run_odoo(
        name,
        "-i",
        "receivables_followup",
        "--without-demo=all",
        "--stop-after-init",
        "--http-port=0",
    )
    Stage(name, script(SEED)).run()
    sys.path.insert(0, str(BENCH))
    from datagen import generate

    connection = psycopg2.connect(dbname=name)
    try:
        generate(connection, 3 * customers, customers, date.today(), scenario)
        with connection.cursor() as cr:
            # the generator makes one customer in four French; the database
            # has English only
            cr.execute("UPDATE res_partner SET lang = 'en_US' WHERE lang <> 'en_US'")
        connection.commit()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def base_db():
    """A database made by ``make_followup_db`` with CUSTOMERS customers."""
    name = db_name("base")
    try:
        make_followup_db(name, CUSTOMERS)
        yield name
    finally:
        drop_db(name)


# ----------------------------------------------------------------------
# 1. the follow-up run
# ----------------------------------------------------------------------
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


def snapshot(database, queries):
    return {
        name: [str(value) for value in query(database, sql)[0]]
        for name, sql in queries.items()
    }


def test_followup_run_killed_three_times_sends_everything_once(base_db, capsys):
    control, crashed = db_name("followup_control"), db_name("followup")
    copy_db(base_db, control)
    copy_db(base_db, crashed)
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


# ----------------------------------------------------------------------
# the agency: a sandbox process, a database with DEBTORS debtors handed over
# ----------------------------------------------------------------------
class AgencyWorld:
    """The sandbox and the database whose debtors were handed over to it."""

    def __init__(self, database, sandbox, agency_id):
        self.database = database
        self.sandbox = sandbox
        self.agency_id = agency_id

    def params(self, **extra):
        return {"base_url": self.sandbox.base_url, "slow": SLOW, **extra}

    def odoo_cases(self):
        return query(
            self.database,
            "SELECT creditor_reference, agency_case_id FROM followup_agency_case "
            "WHERE agency_id = %s ORDER BY id",
            [self.agency_id],
        )

    def requests(self):
        return dict(
            query(
                self.database,
                "SELECT kind || '/' || state, count(*) FROM followup_agency_request "
                "WHERE agency_id = %s GROUP BY 1",
                [self.agency_id],
            )
        )


@pytest.fixture(scope="module")
def agency(base_db):
    name = db_name("agency")
    api_key = "crash-" + secrets.token_hex(8)
    sandbox = SandboxProcess(api_key=api_key, port=0)
    sandbox.start()
    try:
        copy_db(base_db, name)
        setup = Stage(
            name,
            script(
                AGENCY_SETUP,
                base_url=sandbox.base_url,
                api_key=api_key,
                debtors=DEBTORS,
            ),
        ).run()
        yield AgencyWorld(name, sandbox, setup.result["agency_id"])
    finally:
        sandbox.stop()
        sandbox.cleanup()
        drop_db(name)


# ----------------------------------------------------------------------
# 2. the outbox: cases created at the agency
# ----------------------------------------------------------------------
def wait_for_key(sandbox, key, states, timeout=SLOW + 20):
    """Wait until the sandbox holds the idempotency ``key`` in one of ``states``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in sandbox.idempotency_records():
            if record["key"] == key and record["state"] in states:
                return record
        time.sleep(0.05)
    raise AssertionError(f"the sandbox never held {key} as {states}")


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


def test_outbox_killed_around_case_creations_creates_each_case_once(agency, capsys):
    world = agency
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


# ----------------------------------------------------------------------
# 3. the inbox: the agency's callbacks applied, payments booked
# ----------------------------------------------------------------------
def drain_outbox(world):
    """Send what the outbox still holds (when the outbox test did not)."""
    if any(not agency_case_id for _ref, agency_case_id in world.odoo_cases()):
        Stage(world.database, script(OUTBOX, **world.params(batch=50))).run()


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


def test_inbox_killed_while_applying_callbacks_books_each_payment_once(agency, capsys):
    from agency_sandbox.reference import WEBHOOK_EVENTS

    world = agency
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


# ----------------------------------------------------------------------
# 4. the agency's report files, imported from its report folder
# ----------------------------------------------------------------------
REPORT_HEADER = (
    "Référence;Type;Date;Montant;Devise;Bénéficiaire;Commission;Statut;"
    "Motif de clôture;ID paiement\n"
)

IMPORT_COUNTS = {
    "imports": "SELECT count(*), coalesce(sum(count_applied), 0), "
    "coalesce(sum(count_duplicate), 0), coalesce(sum(count_rejected), 0) "
    "FROM followup_agency_import",
    "rows applied": "SELECT count(*), count(DISTINCT identity) "
    "FROM followup_agency_import_line WHERE state = 'applied'",
    "payments of the reports": "SELECT count(*), coalesce(sum(amount), 0) "
    "FROM followup_agency_payment WHERE agency_payment_id LIKE 'IMP-%%'",
}


def write_reports(world, folder):
    """REPORT_FILES files of REPORT_ROWS payment rows each (1.00 collected by
    the agency, each its own payment id), over the cases in turn."""
    cases = query(
        world.database,
        "SELECT c.creditor_reference, cur.name FROM followup_agency_case c "
        "JOIN res_currency cur ON cur.id = c.currency_id "
        "WHERE c.agency_id = %s ORDER BY c.id",
        [world.agency_id],
    )
    day = date.today().strftime("%d/%m/%Y")
    number = 0
    for index in range(REPORT_FILES):
        rows = []
        for _ in range(REPORT_ROWS):
            reference, currency = cases[number % len(cases)]
            number += 1
            rows.append(
                f"{reference};paiement;{day};1,00;{currency};agence;;;;IMP-{number}\n"
            )
        path = folder / f"report-{index + 1}.csv"
        path.write_text(REPORT_HEADER + "".join(rows), encoding="utf-8")
    return number


def folder_state(folder):
    return {
        name: sorted(path.name for path in (folder / sub).glob("*.csv"))
        if (folder / sub).is_dir()
        else []
        for name, sub in (("waiting", "."), ("done", "done"), ("failed", "failed"))
    }


def test_report_folder_killed_mid_import_applies_each_row_once(
    agency, tmp_path, capsys
):
    world = agency
    drain_outbox(world)
    folder = tmp_path / "reports"
    folder.mkdir()
    rows = write_reports(world, folder)
    query_none(
        world.database,
        "UPDATE followup_agency SET report_folder = %s WHERE id = %s",
        [str(folder), world.agency_id],
    )
    lines = [
        f"{REPORT_FILES} CSV files of {REPORT_ROWS} payment rows ({rows} rows) "
        f"over {len(world.odoo_cases())} cases"
    ]
    stages = [
        ("booking", 2),  # the second file's payments booked, not committed
        ("moved", 1),  # a file moved to done/
        ("before_move", 1),  # a file imported, not moved yet
    ]
    for stop, at in stages:
        stage = Stage(world.database, script(IMPORT, stop=stop, at=at)).run(
            kill_at=stop
        )
        counts = snapshot(world.database, IMPORT_COUNTS)
        lines.append(
            describe(stage)
            + f"; committed then: {counts}; files {folder_state(folder)}"
        )
    last = Stage(world.database, script(IMPORT)).run()
    after = snapshot(world.database, IMPORT_COUNTS)
    files = folder_state(folder)
    lines.append(f"restarted: {last.result['files']} files imported; {after}")
    lines.append(f"files: {files}")
    report(capsys, "agency report folder", lines)
    assert after["rows applied"] == [str(rows), str(rows)]
    assert after["payments of the reports"] == [str(rows), f"{rows:.2f}"]
    assert after["imports"][3] == "0"
    assert files["waiting"] == [] and files["failed"] == []
    assert len(files["done"]) >= REPORT_FILES
