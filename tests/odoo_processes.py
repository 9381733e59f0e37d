"""The Odoo processes of the root suites: the command that runs this Odoo on a
database with the addon (``scripts/test.sh`` gives the Odoo, the Python and the
data directory in the environment), and running it to its end."""

import os
import subprocess
from pathlib import Path

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
