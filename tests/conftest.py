"""Fixtures shared by the root suites.

The crash-recovery suites (``test_crash_*.py``) share one database of
follow-up customers and one agency world, built once for the session: the
scenarios that use the agency run in the order of their files' numbers (the
outbox's test needs cases the agency has never been sent; the inbox's and the
report folder's send what is left first).

The sandbox agency's suites (``test_agency_sandbox_*.py``) each start their own
sandbox (module scope), reset before each of their tests.
"""

import secrets

import pytest
from crash_common import (
    AGENCY_SETUP,
    CUSTOMERS,
    DEBTORS,
    AgencyWorld,
    SandboxProcess,
    Stage,
    copy_db,
    db_name,
    drop_db,
    make_followup_db,
    script,
)
from sandbox_common import FAST, WebhookReceiver


@pytest.fixture(scope="session")
def crash_base_db():
    """A database made by ``make_followup_db`` with CUSTOMERS customers."""
    name = db_name("base")
    try:
        make_followup_db(name, CUSTOMERS)
        yield name
    finally:
        drop_db(name)


@pytest.fixture(scope="session")
def crash_agency(crash_base_db):
    name = db_name("agency")
    api_key = "crash-" + secrets.token_hex(8)
    sandbox = SandboxProcess(api_key=api_key, port=0)
    sandbox.start()
    try:
        copy_db(crash_base_db, name)
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


# The sandbox agency's suites (``test_agency_sandbox_*.py``): one sandbox per
# test module, reset before each of its tests (``pytestmark`` of those modules
# asks for ``clean_agency``; the other suites never start it).
@pytest.fixture(scope="module")
def agency():
    with SandboxProcess(api_key="test-key", settings=FAST) as running:
        yield running


@pytest.fixture
def clean_agency(agency):
    agency.reset()
    agency.settings(**FAST)


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running
