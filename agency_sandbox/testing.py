"""Helpers for tests that talk to the sandbox over real HTTP.

``SandboxProcess`` runs ``python -m agency_sandbox`` as a subprocess on a free
loopback port with its own SQLite file; ``SandboxThread`` serves the same application
from a thread of the current process (faster to start, same behaviour). Both are
context managers with the same small surface: ``base_url``, ``api_key``,
``api_headers``, and methods wrapping the control API (faults, partner actions,
inspection). ``WebhookReceiver`` is a loopback endpoint that records deliveries.

    with SandboxProcess(api_key="k") as agency:
        agency.add_fault("status", method="POST", path="/cases", status=503)
        requests.post(agency.base_url + "/cases", json=..., headers=agency.api_headers)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from .reference import WEBHOOK_EVENTS

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DEBTOR = {
    "type": "Company",
    "name": "Example GmbH",
    "address": "Hauptstrasse 1",
    "city": "Berlin",
    "countryAlpha2": "DE",
}


def sample_case_body(debtor=None, **changes):
    """A valid ``POST /cases`` body (EUR 1,250.50, a German company).

    ``changes`` replace top-level fields (``None`` sends JSON null); ``debtor``
    entries are merged into the sample debtor.
    """
    body = {
        "currencyCode": "EUR",
        "date": "2025-01-15",
        "dueDate": "2025-02-15",
        "amountToRecover": 1250.50,
        "creditorReference": "INV-2025-001",
        "debtor": {**SAMPLE_DEBTOR, **(debtor or {})},
    }
    body.update(changes)
    return body


class SandboxError(RuntimeError):
    """The sandbox did not start, or a control call failed."""


class SandboxControl:
    """Control-API client shared by the two ways of running the sandbox."""

    base_url = None
    api_key = None

    def __init__(self):
        self.session = requests.Session()
        self.session.trust_env = False  # never send loopback calls through a proxy

    @property
    def api_headers(self):
        """Headers authenticating a Customer API call: ``{"XApiKey": key}``."""
        return {"XApiKey": self.api_key}

    def url(self, path):
        """Absolute URL of ``path`` on the sandbox."""
        return self.base_url + path

    def api(self, method, path, headers=None, **kwargs):
        """Call the Customer API with the ``XApiKey``; return the ``Response``."""
        headers = {**self.api_headers, **(headers or {})}
        return self.session.request(method, self.url(path), headers=headers, **kwargs)

    def create_case(self, body=None, idempotency_key=None, **kwargs):
        """``POST /cases`` (``sample_case_body()`` by default); return the Response."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body = sample_case_body() if body is None else body
        return self.api("POST", "/cases", headers=headers, json=body, **kwargs)

    def subscribe_webhook(self, url, events=WEBHOOK_EVENTS, test_mode=False):
        """``POST /webhooks`` for ``url``; return the ``WebhookDto`` with its secret."""
        payload = {"url": url, "events": list(events), "isTestMode": test_mode}
        response = self.api("POST", "/webhooks", json=payload)
        if response.status_code != 201:
            raise SandboxError(
                f"POST /webhooks -> {response.status_code}: {response.text}"
            )
        return response.json()

    def control(self, method, path, payload=None, expected=(200, 201, 204)):
        """Call ``/_sandbox{path}``; return the decoded JSON (None for 204)."""
        response = self.session.request(
            method, self.url("/_sandbox" + path), json=payload, timeout=30
        )
        if response.status_code not in expected:
            raise SandboxError(
                f"{method} /_sandbox{path} -> {response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    def reset(self, keep_settings=False):
        """Delete all data (and settings unless ``keep_settings``)."""
        self.control("POST", "/reset", {"keepSettings": keep_settings})

    def settings(self, **changes):
        """Change settings (``webhook_retry_delays=[0.01]``...); return them all."""
        if changes:
            return self.control("PATCH", "/settings", changes)
        return self.control("GET", "/settings")

    def add_fault(
        self, kind, method="*", path="*", count=1, probability=None, **params
    ):
        """Add a fault rule; see ``agency_sandbox.faults`` for kinds and params.

        ``count=None`` with a ``probability`` makes a random, unlimited rule.
        """
        rule = {"kind": kind, "method": method, "path": path, "count": count}
        if probability is not None:
            rule["probability"] = probability
        return self.control("POST", "/faults", {**rule, **params})

    def faults(self):
        """Fault rules with ``remaining`` and ``hits``."""
        return self.control("GET", "/faults")

    def clear_faults(self):
        """Remove every fault rule."""
        self.control("DELETE", "/faults")

    def activate(self, case_id):
        """Partner activates the case; returns the case as ``GET /cases/{id}``."""
        return self.control("POST", f"/cases/{case_id}/activate")

    def request_details(self, case_id, message=None, items=None):
        """Partner asks for additional details (``NeedsAdditionalDetails``)."""
        return self.control(
            "POST",
            f"/cases/{case_id}/request-details",
            {"message": message, "items": items},
        )

    def pause(self, case_id):
        """Partner pauses an active case."""
        return self.control("POST", f"/cases/{case_id}/pause")

    def resume(self, case_id):
        """Partner resumes a paused case."""
        return self.control("POST", f"/cases/{case_id}/resume")

    def close(self, case_id, close_code, comment=None):
        """Partner closes the case with a close-code name or label."""
        payload = {"closeCode": close_code, "comment": comment}
        return self.control("POST", f"/cases/{case_id}/close", payload)

    def register_payment(self, case_id, amount, currency=None, recipient=None, **extra):
        """Partner registers a payment; ``extra``: ``method``, ``date``, ``commission``.

        Returns ``{"payment": PaymentDto, "stored": ..., "case": InvoiceDto}``.
        """
        payload = {"amount": amount, "currency": currency, "recipient": recipient}
        return self.control("POST", f"/cases/{case_id}/payments", {**payload, **extra})

    def delete_payment(self, case_id, payment_id):
        """Partner deletes (reverses) a payment."""
        return self.control("DELETE", f"/cases/{case_id}/payments/{payment_id}")

    def partner_message(self, case_id, message):
        """Partner posts a chat message; returns the ``ChatDto``."""
        return self.control("POST", f"/cases/{case_id}/chats", {"message": message})

    def adjust(self, case_id, **changes):
        """Set ``phase``/``disputeStatus`` or add ``interest``/fees (no webhook)."""
        return self.control("POST", f"/cases/{case_id}/adjust", changes)

    def cases(self):
        """Every stored case with its create body (claim lines are not stored: the
        request log has the body as sent)."""
        return self.control("GET", "/cases")

    def case(self, case_id):
        """One stored case with payments (deleted too), chats and files."""
        return self.control("GET", f"/cases/{case_id}")

    def files(self):
        """Every uploaded file's metadata (name, size, SHA-256, type)."""
        return self.control("GET", "/files")

    def request_log(self, method=None, path=None):
        """The request log, optionally filtered by method and exact path.

        Each entry's ``body`` is the JSON document sent (parsed), the text of a text
        body, or None; ``bodyTruncated`` tells when a long body was cut.
        """
        query = "&".join(
            f"{name}={value}"
            for name, value in (("method", method), ("path", path))
            if value
        )
        return self.control("GET", "/requests" + (f"?{query}" if query else ""))

    def idempotency_records(self):
        """Stored ``Idempotency-Key`` records."""
        return self.control("GET", "/idempotency")

    def webhooks(self):
        """Subscriptions (with secrets), deliveries with attempts, ``busy``."""
        return self.control("GET", "/webhooks")

    def wait_for_webhooks(self, timeout=10.0):
        """Wait until no delivery is due, held or on the wire; return ``webhooks()``."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.webhooks()
            if not state["busy"]:
                return state
            if time.monotonic() > deadline:
                raise SandboxError("webhook deliveries still busy after timeout")
            time.sleep(0.02)

    def sign_contracts(self, contract=None):
        """Sign the SDCA and/or the PoA (``"sdca"``, ``"poa"``, both by default)."""
        return self.control(
            "POST", "/contracts/sign" + (f"?contract={contract}" if contract else "")
        )

    def _wait_healthy(self, timeout, alive=lambda: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive():
            try:
                if self.session.get(self.url("/_sandbox/health"), timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise SandboxError("the sandbox did not answer on /_sandbox/health")


class _Runner(SandboxControl):
    """Common construction and context-manager behaviour of the two runners."""

    def __init__(self, api_key="sandbox-api-key", db_path=None, host="127.0.0.1",
                 port=0, settings=None, startup_timeout=20.0):  # fmt: skip
        super().__init__()
        self.api_key = api_key
        self.host = host
        self.port = port
        self.initial_settings = settings or {}
        self.startup_timeout = startup_timeout
        self._temp_dir = None
        if db_path is None:
            self._temp_dir = tempfile.mkdtemp(prefix="agency_sandbox_test_")
            db_path = os.path.join(self._temp_dir, "state.sqlite")
        self.db_path = str(db_path)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
        self.cleanup()

    def restart(self):
        """Stop and start again on the same port with the same SQLite file."""
        self.stop()
        self.port = int(self.base_url.rsplit(":", 1)[1])
        self.start()

    def cleanup(self):
        """Remove the temporary directory created for the SQLite file, if any."""
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def _apply_initial_settings(self):
        if self.initial_settings:
            self.settings(**self.initial_settings)


class SandboxProcess(_Runner):
    """``python -m agency_sandbox`` in a subprocess (cwd and PYTHONPATH: repo root).

    :param api_key: the ``XApiKey`` the sandbox accepts
    :param db_path: SQLite file (default: a temporary file removed on exit)
    :param port: 0 (default) lets the server pick a free port
    :param settings: settings applied once started (e.g. short retry delays)
    """

    process = None
    log_path = None

    def start(self):
        """Start the subprocess and wait until it answers."""
        self.log_path = self.db_path + ".log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])
        )
        command = [
            sys.executable, "-m", "agency_sandbox", "--host", self.host,
            "--port", str(self.port), "--db", self.db_path, "--api-key", self.api_key,
        ]  # fmt: skip
        offset = log.tell()
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        self._log_file = log
        self.base_url = self._read_url(offset)
        self._wait_healthy(self.startup_timeout, lambda: self.process.poll() is None)
        self._apply_initial_settings()
        return self

    def _read_url(self, offset):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as handle:
                handle.seek(offset)
                for line in handle.read().decode("utf-8", "replace").splitlines():
                    if line.startswith("http://"):
                        return line.strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise SandboxError(f"the sandbox did not start; see {self.log_path}")

    def stop(self):
        """Terminate the subprocess (SIGTERM, then SIGKILL after 10 s)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log_file", None):
            self._log_file.close()
            self._log_file = None


class SandboxThread(_Runner):
    """The sandbox served from a thread of this process (same arguments)."""

    running = None
    _thread = None

    def start(self):
        """Bind, start serving in a daemon thread, wait until it answers."""
        from .server import start

        self.running = start(self.db_path, self.api_key, self.host, self.port)
        self.base_url = self.running.base_url
        self._thread = threading.Thread(target=self.running.serve_forever, daemon=True)
        self._thread.start()
        self._wait_healthy(self.startup_timeout)
        self._apply_initial_settings()
        return self

    def stop(self):
        """Stop serving and release the port and the database."""
        if self.running is not None:
            self.running.shutdown()
            self._thread.join(10)
            self.running.close()
            self.running = None


class Delivery:
    """One request a ``WebhookReceiver`` got."""

    def __init__(self, path, headers, body):
        self.path = path
        self.headers = headers
        self.body = body

    @property
    def json(self):
        """The body decoded as JSON."""
        return json.loads(self.body)


class WebhookReceiver:
    """Loopback HTTP endpoint recording webhook deliveries.

    ``respond_with(500, 500)`` makes the next two deliveries fail; afterwards (or when
    the queue is empty) it answers ``default_status``.
    """

    def __init__(self, host="127.0.0.1", default_status=200):
        self.deliveries = []
        self.default_status = default_status
        self._statuses = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver._statuses.pop(0) if receiver._statuses else None
                    receiver.deliveries.append(
                        Delivery(self.path, dict(self.headers), body)
                    )
                    receiver._lock.notify_all()
                self.send_response(status or receiver.default_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                """Silence the default access log."""

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def respond_with(self, *statuses):
        """Queue the statuses the next deliveries get."""
        with self._lock:
            self._statuses.extend(statuses)

    def wait_for(self, count, timeout=10.0):
        """Wait until ``count`` deliveries arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.deliveries) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SandboxError(
                        f"{len(self.deliveries)} deliveries received, {count} expected"
                    )
                self._lock.wait(remaining)
            return list(self.deliveries)
