"""Odoo as a real server for the benches (``bench_webhooks.py``, ``bench_workers.py``,
``bench_soak.py``): ``odoo-bin --workers W`` on a free loopback port, and the CPU
time its processes and the database's PostgreSQL backends use.
"""

import os
import signal
import socket
import subprocess
import time

from benchlib import BENCH_DIR, WORK_DIR, bench_result


# ----------------------------------------------------------------------
# Processes
# ----------------------------------------------------------------------
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """``odoo-bin --workers W`` on a free loopback port, in its own process group
    (``cron_threads``: its cron workers, none by default)."""

    def __init__(
        self, odoo, db, workers, db_filter=True, cron_threads=0, label=None, log=()
    ):
        self.odoo = odoo
        self.db = db
        self.workers = workers
        self.db_filter = db_filter
        self.cron_threads = cron_threads
        self.log_handlers = log
        self.port = free_port()
        self.gevent_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logfile = WORK_DIR / "logs" / f"{db}-{label or 'webhooks'}-server.log"
        self.process = None

    def start(self, timeout=180.0):
        import requests

        cmd = [
            self.odoo.python,
            f"{self.odoo.odoo_path}/odoo-bin",
            "-d",
            self.db,
            "--workers",
            str(self.workers),
            "--max-cron-threads",
            str(self.cron_threads),
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(self.port),
            "--gevent-port",
            str(self.gevent_port),
            *(["--db-filter", f"^{self.db}$"] if self.db_filter else []),
            f"--addons-path={self.odoo.addons}",
            f"--data-dir={self.odoo.data_dir}",
            "--limit-time-real",
            "1200",
            "--limit-time-cpu",
            "1200",
            "--log-level",
            "warn",
            "--logfile",
            str(self.logfile),
            *(f"--log-handler={handler}" for handler in self.log_handlers),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=WORK_DIR,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo-bin exited; see {self.logfile}")
            try:
                if requests.get(f"{self.url}/web/login", timeout=30).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"odoo-bin did not answer in {timeout:.0f} s")

    def processes(self):
        import psutil

        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self):
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def send_webhooks(
        self, agency_id, secret, events_file, clients, sandbox_root, label
    ):
        """POST the signed events of ``events_file`` to the agency's webhook
        from ``clients`` threads of ``webhook_client.py``; returns its figures."""
        out = self.odoo._run(
            [
                self.odoo.python,
                str(BENCH_DIR / "webhook_client.py"),
                "--url",
                f"{self.url}/receivables_followup/agency/{agency_id}/webhook",
                "--secret",
                secret,
                "--events",
                str(events_file),
                "--clients",
                str(clients),
                "--sandbox-root",
                str(sandbox_root),
            ],
            label,
        )
        return bench_result(out, "the webhook client")


def cpu_of(processes):
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except Exception:  # noqa: BLE001, S110 - gone meanwhile
            pass
    return total


def postgres_backends(db):
    import psutil

    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if cmdline.startswith("postgres: ") and f" {db} " in f"{cmdline} ":
            found.append(process)
    return found


class CpuMeter:
    """CPU seconds used by the Odoo server's processes and the database's
    PostgreSQL backends between ``start`` and ``stop`` (backends that came and
    went in between are missed: an approximation)."""

    def __init__(self, server, db):
        self.server = server
        self.db = db

    def start(self):
        self.seen = {}
        for process in self.server.processes() + postgres_backends(self.db):
            self.seen[process.pid] = cpu_of([process])

    def stop(self):
        odoo = pg = 0.0
        server_pids = {p.pid for p in self.server.processes()}
        for process in self.server.processes() + postgres_backends(self.db):
            used = cpu_of([process]) - self.seen.get(process.pid, 0.0)
            if process.pid in server_pids:
                odoo += used
            else:
                pg += used
        return {"odoo_cpu_s": odoo, "postgres_cpu_s": pg}
