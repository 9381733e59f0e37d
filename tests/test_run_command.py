"""The README's run command serves Odoo with the addon and its demo data."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_command_serves_the_followup_ui(tmp_path):
    port = free_port()
    database = f"rf_runcheck_{os.getpid()}"
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        [
            "bash",
            str(REPO / "scripts" / "run.sh"),
            "--port",
            str(port),
            "--db",
            database,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 900
        login_page = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                login_page = requests.get(
                    f"http://127.0.0.1:{port}/web/login", timeout=5
                )
                if login_page.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(2)
        log.seek(0)
        output = log.read()
        assert login_page is not None and login_page.status_code == 200, output[-3000:]
        assert f"http://localhost:{port}" in output
        assert "admin" in output

        session = requests.Session()
        session.get(f"http://127.0.0.1:{port}/web/login", timeout=10)
        auth = session.post(
            f"http://127.0.0.1:{port}/web/session/authenticate",
            json={
                "jsonrpc": "2.0",
                "params": {"db": database, "login": "admin", "password": "admin"},
            },
            timeout=30,
        )
        assert auth.json().get("result", {}).get("uid"), auth.text
        menus = session.post(
            f"http://127.0.0.1:{port}/web/dataset/call_kw",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "model": "ir.ui.menu",
                    "method": "search_read",
                    "args": [[["name", "=", "Reminders to Review"]], ["name"]],
                    "kwargs": {},
                },
            },
            timeout=30,
        ).json()
        assert menus["result"], menus
        invoices = session.post(
            f"http://127.0.0.1:{port}/web/dataset/call_kw",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "model": "account.move",
                    "method": "search_count",
                    "args": [[["followup_status", "=", "in_followup"]]],
                    "kwargs": {},
                },
            },
            timeout=30,
        ).json()
        assert invoices["result"] > 0, invoices
        agencies = session.post(
            f"http://127.0.0.1:{port}/web/dataset/call_kw",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "model": "followup.agency",
                    "method": "search",
                    "args": [[["code", "=", "debitura"]]],
                    "kwargs": {},
                },
            },
            timeout=30,
        ).json()
        assert agencies["result"], agencies
        # the demo agency talks to the sandbox the run command started
        connection = session.post(
            f"http://127.0.0.1:{port}/web/dataset/call_kw",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "model": "followup.agency",
                    "method": "action_test_connection",
                    "args": [agencies["result"][:1]],
                    "kwargs": {},
                },
            },
            timeout=30,
        ).json()
        assert "Sandbox Creditor" in str(connection.get("result")), connection
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        subprocess.run(["dropdb", "--if-exists", database], check=False)
