"""The Odoo processes of the root suites: the command that runs this Odoo on a
database with the addon (``scripts/test.sh`` gives the Odoo, the Python and the
data directory in the environment), running it to its end, and serving HTTP."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]


def odoo_command(database, *args):
    odoo_bin = os.environ.get("ODOO_BIN") or str(
        Path(os.environ["ODOO_ROOT"]) / "odoo-bin"
    )
    python = os.environ.get("RF_PYTHON", "python3")
    addons = f"{Path(odoo_bin).parent / 'odoo' / 'addons'},{REPO}"
    command = [
        python,
        odoo_bin,
        *args,
        "-d",
        database,
        f"--addons-path={addons}",
        "--log-level=warn",
    ]
    if os.environ.get("RF_DATA_DIR"):
        command.append(f"--data-dir={os.environ['RF_DATA_DIR']}")
    return command


def run_odoo(database, *args, stdin=None, timeout=900):
    """Run odoo-bin on ``database`` to its end; its output, asserted to exit 0."""
    result = subprocess.run(
        odoo_command(database, *args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """``odoo-bin`` serving ``database`` on a loopback port, with ``options``
    (by default one process without cron threads), in its own process group."""

    def __init__(self, database, *options, port=None):
        self.port = port or free_port()
        self.process = subprocess.Popen(
            odoo_command(
                database,
                f"--http-port={self.port}",
                "--http-interface=127.0.0.1",
                *(options or ("--workers=0", "--max-cron-threads=0")),
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(self.url("/web/login"), timeout=5).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("the Odoo server did not answer")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
