"""The soak with faults, small: ``bench/soak`` on 40 hand-offs, run as CI runs it.

Real parts only: the agency sandbox as a process with its fault rules, Odoo as a
server (``--workers 2 --max-cron-threads 2``) whose scheduled actions send the
cases, process the callbacks and poll the agency, a follow-up manager's wizard
in another process, the collection partner and a replay of every callback from
8 threads. Once the faults stop, the counts must be the same on both sides:
no case lost or created twice, every callback applied once, every payment
booked once. The figures come from the sandbox's control API and Odoo's
database (``soak_report.compare``); this test asserts them exactly.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEBTORS = 40
#: one payment per case, two for every third
PAYMENTS = sum(2 if index % 3 == 2 else 1 for index in range(DEBTORS))
HTTP_KINDS = {"timeout", "reset", "503", "rate_limit", "lost_response"}
WEBHOOK_KINDS = {"webhook_duplicate", "webhook_reorder", "webhook_drop"}


def odoo_root():
    root = os.environ.get("ODOO_ROOT")
    if not root:
        pytest.skip("ODOO_ROOT is not set (scripts/test.sh sets it)")
    return root


def python():
    return os.environ.get("RF_PYTHON", sys.executable)


@pytest.fixture(scope="module")
def installed_db():
    """A database with the addon installed, without demo data."""
    root = odoo_root()
    name = f"{os.environ.get('RF_DB_PREFIX', 'rf_pytest_')}soak_base"
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(["createdb", name], check=True)
    command = [
        python(), f"{root}/odoo-bin", "-d", name, "-i", "receivables_followup",
        "--without-demo=all", f"--addons-path={root}/odoo/addons,{REPO}",
        "--stop-after-init", "--no-http", "--log-level=warn",
    ]  # fmt: skip
    if os.environ.get("RF_DATA_DIR"):
        command.append(f"--data-dir={os.environ['RF_DATA_DIR']}")
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=900, check=False
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        yield name
    finally:
        subprocess.run(["dropdb", "--if-exists", name], check=False)


@pytest.fixture(scope="module")
def soak(installed_db):
    run_db = f"{os.environ.get('RF_DB_PREFIX', 'rf_pytest_')}soak_run"
    done = subprocess.run(
        [
            python(),
            str(REPO / "bench" / "bench_soak.py"),
            "--debtors",
            str(DEBTORS),
            "--database",
            installed_db,
            "--db-name",
            run_db,
            "--addon-ref",
            "worktree",
            "--odoo-path",
            odoo_root(),
            "--python",
            python(),
            "--timeout",
            "150",
            "--json",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=str(REPO),
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, (done.stdout + done.stderr)[-4000:]
    result = json.loads(lines[-1])
    result["returncode"] = done.returncode
    return result


def test_no_mismatch_once_the_faults_stop(soak):
    assert soak["problems"] == [], soak
    assert soak["returncode"] == 0


def test_every_fault_kind_was_injected(soak):
    faults = soak["faults"]
    assert {kind for kind in HTTP_KINDS if faults.get(kind)} == HTTP_KINDS, faults
    assert {kind for kind in WEBHOOK_KINDS if faults.get(kind)} == WEBHOOK_KINDS
    # the failed creations were retried: more calls than cases
    assert soak["create_calls"] > DEBTORS
    assert soak["create_attempts"] > soak["create_requests"]


def test_each_case_is_created_once_on_both_sides(soak):
    assert soak["handoff"]["cases"] == DEBTORS
    assert soak["cases_sandbox"] == DEBTORS
    assert soak["cases_odoo"] == DEBTORS
    assert soak["case_states_odoo"] == {"active": DEBTORS}
    # one idempotency record per case: the retries replayed the first answer
    assert soak["idempotency_records"] == DEBTORS
    assert soak["create_requests"] == DEBTORS
    assert soak["requests"] == {"done": DEBTORS}


def test_every_delivered_callback_is_stored_and_applied_once(soak):
    delivered = soak["events_delivered"]
    # created, activated and each payment: the dropped ones never came
    assert soak["events_queued"] == 2 * DEBTORS + PAYMENTS
    assert delivered == soak["events_queued"] - soak["events_dropped_never_delivered"]
    assert soak["events_dropped_never_delivered"] >= 1
    assert soak["events_stored"] == delivered
    assert soak["event_states"] == {"done": delivered}
    assert soak["replay"]["answers"] == {"duplicate": delivered}


def test_every_payment_is_booked_once(soak):
    assert soak["partner_payments"] == PAYMENTS
    assert soak["payments_sandbox"] == PAYMENTS
    assert soak["payments_odoo"] == PAYMENTS
    assert soak["payments_booked"] == PAYMENTS
