"""Shared pieces of the crash-recovery suites (``test_crash_*.py``).

A real Odoo process killed (SIGKILL) in the middle of its work, then restarted,
finishes that work exactly once. Each scenario drives the addon's own scheduled
action from an ``odoo-bin shell`` script, as Odoo's cron runner calls it (call,
commit, again while work remains). The script prints progress markers
(``RF_MARK name {json}``); the test waits for the marker of the kill point and
kills the process there, without guessing at timings. Where the kill must land
inside a transaction, the script stops at a real point of the work (after it
wrote, before it committed) and waits to be killed; where it must land inside
an HTTP call, the agency sandbox is made slow by its fault injection and the
test kills Odoo once the sandbox holds the request. Before each kill the test
reads ``pg_stat_activity``: a backend with a transaction id is a transaction
that had written, lost with the process.

Here: the sizes, the scripts' prelude, :class:`Stage` (one Odoo shell process,
run to its end or killed at a marker), the databases (``make_followup_db`` is
also the two-workers suite's) and the agency's world (a sandbox process and a
database whose debtors were handed over to it); the fixtures that build them
once for every crash suite are in ``conftest.py``. Each scenario prints what
was killed when and the counts before and after. Sizes: ``RF_CRASH_SCALE``
(default 1) multiplies them.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
from odoo_processes import odoo_command, run_odoo

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULT = "RF_RESULT "
MARK = "RF_MARK "

sys.path.insert(0, str(REPO))
# the agency's sandbox, started by the agency fixture of conftest.py
from agency_sandbox.testing import SandboxProcess  # noqa: E402, F401

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

def drain(cron, what, calls=None, after_commit=None):
    # calls the batch cron until nothing is left, committing after each call
    # as Odoo's cron runner does; ``calls`` is shared with the script's hooks
    calls = calls if calls is not None else [0]
    while True:
        done, remaining = cron(batch_size=PARAMS["batch"])
        env.cr.commit()
        env.invalidate_all()
        calls[0] += 1
        mark("committed", call=calls[0], done=done, remaining=remaining)
        if after_commit:
            after_commit(calls[0], remaining)
        if not remaining:
            break
        if not done:
            raise SystemExit(f"the {what} made no progress, {remaining} left")
    result(calls=calls[0])
"""

SEED = r"""
from followup_worker import mode_seed
seed = mode_seed(env, None)
env.cr.commit()
result(**seed)
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

drain(Request._cron_send_requests, "outbox")
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
        generate(connection, 3 * customers, customers, scenario)
        with connection.cursor() as cr:
            # the generator makes one customer in four French; the database
            # has English only
            cr.execute("UPDATE res_partner SET lang = 'en_US' WHERE lang <> 'en_US'")
        connection.commit()
    finally:
        connection.close()


def snapshot(database, queries):
    return {
        name: [str(value) for value in query(database, sql)[0]]
        for name, sql in queries.items()
    }


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


def drain_outbox(world):
    """Send what the outbox still holds (when the outbox test did not)."""
    if any(not agency_case_id for _ref, agency_case_id in world.odoo_cases()):
        Stage(world.database, script(OUTBOX, **world.params(batch=50))).run()
