"""Upgrade and uninstall on a database full of follow-up: ``-u`` keeps every
record and setting; uninstalling the addon leaves the invoices, payments and
journal entries as they were.

Real Odoo processes on a real database: the addon is installed without demo
data, a ledger is made through the ORM (invoices, a payment, credit notes), the
follow-up runs on past days, a dispute and a promise are recorded; then the
addon is upgraded, then uninstalled, and the rows are counted each time.
"""

import json
import os
import subprocess
from pathlib import Path

import psycopg2
import pytest
from odoo_processes import run_odoo

REPO = Path(__file__).resolve().parents[1]
RESULT = "RF_RESULT "

#: the follow-up's own records and settings, which an upgrade keeps
FOLLOWUP_COUNTS = {
    "actions": (
        "SELECT count(*), count(*) FILTER (WHERE state = 'done') "
        "FROM followup_history"
    ),
    "action lines": "SELECT count(*), sum(amount_claimed) FROM followup_history_line",
    "runs": "SELECT count(*) FROM followup_run",
    "disputes": "SELECT count(*), sum(amount_disputed) FROM followup_dispute",
    "promises": "SELECT count(*), sum(amount) FROM followup_promise",
    "policies and levels": (
        "SELECT count(DISTINCT p.id), count(l.id), sum(l.delay) "
        "FROM followup_policy p JOIN followup_level l ON l.policy_id = p.id"
    ),
    "invoice follow-up": (
        "SELECT count(*) FILTER (WHERE followup_level_id IS NOT NULL), "
        "count(*) FILTER (WHERE followup_promise_date IS NOT NULL), "
        "string_agg(DISTINCT followup_status, ',' ORDER BY followup_status) "
        "FROM account_move WHERE move_type = 'out_invoice'"
    ),
    "company settings": (
        "SELECT string_agg(followup_tz, ',' ORDER BY id) FROM res_company"
    ),
    "agencies and their settings": (
        "SELECT count(*), string_agg(md5(concat_ws('|', name, code, base_url, "
        "api_key, webhook_secret, agency_user_email, max_attempts)), ',') "
        "FROM followup_agency"
    ),
    "agency cases": (
        "SELECT count(*), string_agg(concat_ws('|', state, partner_id, "
        "currency_id), ',' ORDER BY id) FROM followup_agency_case"
    ),
    "agency case lines": "SELECT count(*) FROM followup_agency_case_line",
    "agency requests": (
        "SELECT count(*), string_agg(concat_ws('|', kind, state, idempotency_key), "
        "',' ORDER BY id) FROM followup_agency_request"
    ),
    "agency callbacks": (
        "SELECT count(*), string_agg(event_id, ',' ORDER BY id) "
        "FROM followup_agency_event"
    ),
    "agency payments": (
        "SELECT count(*), string_agg(agency_payment_id, ',' ORDER BY id) "
        "FROM followup_agency_payment"
    ),
    "agency report imports": (
        "SELECT (SELECT count(*) FROM followup_agency_import), "
        "(SELECT count(*) FROM followup_agency_import_line)"
    ),
}
#: the accounting, which an uninstall keeps
ACCOUNTING_COUNTS = {
    "entries": (
        "SELECT count(*), count(*) FILTER (WHERE state = 'posted') " "FROM account_move"
    ),
    "journal items": (
        "SELECT count(*), sum(debit), sum(credit), sum(amount_residual) "
        "FROM account_move_line"
    ),
    "payments": "SELECT count(*), sum(amount) FROM account_payment",
    "reconciliations": "SELECT count(*), sum(amount) FROM account_partial_reconcile",
    "invoices": (
        "SELECT count(*), sum(amount_total), sum(amount_residual), "
        "string_agg(payment_state, ',' ORDER BY id) "
        "FROM account_move WHERE move_type IN ('out_invoice', 'out_refund')"
    ),
}

SEED = r"""
import json
from datetime import timedelta
from odoo import Command

company = env.ref("base.main_company")
today = company._followup_today()
customers = env["res.partner"].create([
    {"name": f"Upgrade customer {index}", "is_company": True,
     "email": f"customer{index}@upgrade.example", "street": "1 rue de Lyon",
     "city": "Lyon", "zip": "69001", "country_id": env.ref("base.fr").id}
    for index in range(3)
])

def invoice(partner, amount, days_late, move_type="out_invoice"):
    due = today - timedelta(days=days_late)
    move = env["account.move"].create({
        "move_type": move_type, "partner_id": partner.id,
        "invoice_date": due - timedelta(days=30), "invoice_date_due": due,
        "invoice_payment_term_id": False,
        "invoice_line_ids": [Command.create(
            {"name": "Work", "quantity": 1, "price_unit": amount, "tax_ids": []})],
    })
    move.action_post()
    return move

invoices = [invoice(customer, 1000.0 + 100 * index, days)
            for index, customer in enumerate(customers) for days in (70, 40, 12)]
invoice(customers[0], 150.0, 0, "out_refund")
paid = invoices[1]
env["account.payment.register"].with_context(
    active_model="account.move", active_ids=paid.ids
).create({"amount": 400.0, "payment_difference_handling": "open"})._create_payments()
env["followup.run"]._replay_past_days(company.id, [35, 20, 5])
env["followup.dispute"]._open_dispute(
    customers[1], {invoices[3]: 300.0}, "quality", description="Damaged",
)
invoices[6]._followup_register_promise(today + timedelta(days=10), customers[2])
# the agency side: an agency with its settings and secrets, a case handed over
# with its request, a callback, a payment and a report import
import uuid
agency = env["followup.agency"].create({
    "name": "Upgrade agency", "code": "debitura", "company_id": company.id,
    "base_url": "https://agency.upgrade.example", "api_key": "rf-upgrade-key",
    "webhook_secret": "cmYtdXBncmFkZS1zZWNyZXQ=",
    "agency_user_email": "creditor@upgrade.example", "max_attempts": 7,
})
case = env["followup.agency.case"].create({
    "agency_id": agency.id, "company_id": company.id,
    "partner_id": customers[0].id, "currency_id": invoices[0].currency_id.id,
    "line_ids": [Command.create({"move_id": invoices[0].id})],
})
env["followup.agency.request"].create({
    "agency_id": agency.id, "case_id": case.id, "kind": "refresh",
    "idempotency_key": str(uuid.uuid4()),
})
env["followup.agency.event"].create({
    "agency_id": agency.id, "company_id": company.id,
    "event_id": str(uuid.uuid4()), "event_type": "case.updated", "payload": "{}",
})
env["followup.agency.payment"].create({
    "agency_id": agency.id, "case_id": case.id, "company_id": company.id,
    "agency_payment_id": str(uuid.uuid4()),
    "currency_id": invoices[0].currency_id.id, "recipient": "agency",
})
report = env["followup.agency.import"].create({
    "name": "report.csv", "agency_id": agency.id, "company_id": company.id,
})
env["followup.agency.import.line"].create({
    "import_id": report.id, "agency_id": agency.id, "identity": "row-1",
    "state": "rejected",
})
env.cr.commit()
print("RF_RESULT " + json.dumps({"invoices": len(invoices)}))
"""

UNINSTALL = r"""
import json
module = env["ir.module.module"].search([("name", "=", "receivables_followup")])
module.button_immediate_uninstall()
env.cr.commit()
print("RF_RESULT " + json.dumps({"state": module.state}))
"""


def shell(database, script):
    output = run_odoo(database, "shell", "--no-http", stdin=script)
    lines = [line for line in output.splitlines() if line.startswith(RESULT)]
    assert lines, output[-4000:]
    return json.loads(lines[-1][len(RESULT) :]), output


def snapshot(database, queries):
    with psycopg2.connect(dbname=database) as connection, connection.cursor() as cr:
        result = {}
        for name, query in queries.items():
            cr.execute(query)
            result[name] = [str(value) for value in cr.fetchone()]
        return result


def errors(output):
    return [line for line in output.splitlines() if " ERROR " in line]


@pytest.fixture(scope="module")
def database():
    name = f"{os.environ.get('RF_DB_PREFIX', 'rf_pytest_')}upgrade"
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(["createdb", name], check=True)
    try:
        run_odoo(
            name,
            "-i",
            "receivables_followup",
            "--without-demo=all",
            "--stop-after-init",
            "--http-port=0",
        )
        shell(name, SEED)
        yield name
    finally:
        subprocess.run(["dropdb", "--if-exists", name], check=False)


def test_upgrade_keeps_every_record_and_setting(database):
    followup = snapshot(database, FOLLOWUP_COUNTS)
    accounting = snapshot(database, ACCOUNTING_COUNTS)
    # the seed made what the suite means to keep
    assert int(followup["actions"][1]) >= 3, followup
    assert followup["disputes"][0] == "1" and followup["promises"][0] == "1"
    assert followup["agency cases"][0] == "1" and followup["agency payments"][0] == "1"
    output = run_odoo(
        database, "-u", "receivables_followup", "--stop-after-init", "--http-port=0"
    )
    assert not errors(output), output[-4000:]
    assert snapshot(database, FOLLOWUP_COUNTS) == followup
    assert snapshot(database, ACCOUNTING_COUNTS) == accounting


def test_uninstall_leaves_the_accounting_intact(database):
    accounting = snapshot(database, ACCOUNTING_COUNTS)
    assert int(accounting["payments"][0]) >= 1, accounting
    result, output = shell(database, UNINSTALL)
    assert result["state"] == "uninstalled"
    assert not errors(output), "\n".join(errors(output))
    assert snapshot(database, ACCOUNTING_COUNTS) == accounting
    with psycopg2.connect(dbname=database) as connection, connection.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_name LIKE 'followup\\_%'"
        )
        assert cr.fetchone()[0] == 0
        cr.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'account_move' AND column_name LIKE 'followup\\_%'"
        )
        assert cr.fetchone()[0] == 0
