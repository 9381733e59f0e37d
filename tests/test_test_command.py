"""The README's commands refuse to run without Odoo 18 instead of skipping its tests.

Locating Odoo is their first step, before any virtualenv or PostgreSQL work: these
tests take a second each.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path):
    """An empty HOME and a PATH whose python3 cannot import a pip-installed odoo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3"
    # -I -S: no site-packages, no PYTHONPATH, so no importable odoo.
    shim.write_text(f'#!/bin/sh\nexec {shutil.which("python3")} -I -S "$@"\n')
    shim.chmod(0o755)
    return tmp_path


def run_command(home, script, *args, **env_overrides):
    env = {
        "PATH": f"{home / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "RF_ODOO_SEARCH_DEFAULTS": "0",
    }
    env.update(env_overrides)
    return subprocess.run(
        ["bash", str(REPO / "scripts" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fake_odoo(root, major):
    (root / "odoo").mkdir(parents=True)
    (root / "odoo" / "release.py").write_text(
        f"version_info = ({major}, 0, 0, FINAL, 0, '')\n"
    )
    return root


@pytest.mark.parametrize("script", ["test.sh", "run.sh"])
def test_missing_odoo_fails_with_explanation(home, script):
    result = run_command(home, script)
    assert result.returncode == 3, result.stderr
    assert "Odoo 18.0 not found" in result.stderr
    assert "ODOO_PATH" in result.stderr
    assert "--odoo-path" in result.stderr
    assert "import odoo" in result.stderr


def test_explicit_missing_path_does_not_fall_back(home):
    # The default locations are searched here (/opt/odoo18 may well exist): an explicit
    # path must still be the only candidate.
    missing = home / "nowhere"
    result = run_command(
        home, "test.sh", "--odoo-path", str(missing), RF_ODOO_SEARCH_DEFAULTS="1"
    )
    assert result.returncode == 3, result.stderr
    assert "Odoo 18.0 not found" in result.stderr
    assert str(missing) in result.stderr


def test_other_odoo_version_is_rejected(home):
    fake = fake_odoo(home / "odoo17", 17)
    result = run_command(home, "test.sh", "--odoo-path", str(fake))
    assert result.returncode == 3, result.stderr
    assert "Odoo 17 found" in result.stderr
    assert "needs Odoo 18.0" in result.stderr


def test_odoo_path_variable_is_honoured(home):
    fake = fake_odoo(home / "odoo16", 16)
    result = run_command(home, "test.sh", ODOO_PATH=str(fake))
    assert result.returncode == 3, result.stderr
    assert "Odoo 16 found" in result.stderr


def test_option_wins_over_variable(home):
    fake = fake_odoo(home / "odoo17", 17)
    result = run_command(
        home, "test.sh", "--odoo-path", str(fake), ODOO_PATH=str(home / "nowhere")
    )
    assert result.returncode == 3, result.stderr
    assert "Odoo 17 found" in result.stderr
