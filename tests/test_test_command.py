"""The README's test command refuses to run without Odoo 18 instead of skipping."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_test_command(tmp_path, *args, **env_overrides):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "RF_ODOO_SEARCH_DEFAULTS": "0",
    }
    env.update(env_overrides)
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "test.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def no_importable_odoo(tmp_path):
    """A PATH whose python3 cannot import odoo (the system one cannot either)."""
    result = subprocess.run(
        ["python3", "-c", "import odoo"], capture_output=True, check=False
    )
    if result.returncode == 0:
        pytest.fail("python3 imports odoo here: this test needs a python3 without it")
    return tmp_path


def test_missing_odoo_fails_with_explanation(no_importable_odoo):
    result = run_test_command(no_importable_odoo)
    assert result.returncode == 3
    assert "Odoo 18.0 not found" in result.stderr
    assert "ODOO_PATH" in result.stderr
    assert "--odoo-path" in result.stderr


def test_explicit_missing_path_does_not_fall_back(tmp_path):
    result = run_test_command(
        tmp_path, "--odoo-path", str(tmp_path / "nowhere"), RF_ODOO_SEARCH_DEFAULTS="1"
    )
    assert result.returncode == 3
    assert "Odoo 18.0 not found" in result.stderr


def test_other_odoo_version_is_rejected(tmp_path):
    fake = tmp_path / "odoo17"
    (fake / "odoo").mkdir(parents=True)
    (fake / "odoo" / "release.py").write_text(
        "version_info = (17, 0, 0, FINAL, 0, '')\n"
    )
    result = run_test_command(tmp_path, "--odoo-path", str(fake))
    assert result.returncode == 3
    assert "needs Odoo 18.0" in result.stderr


def test_odoo_path_variable_is_honoured(tmp_path):
    fake = tmp_path / "odoo16"
    (fake / "odoo").mkdir(parents=True)
    (fake / "odoo" / "release.py").write_text("version_info = (16, 0, 0, FINAL, 0, '')\n")
    result = run_test_command(tmp_path, ODOO_PATH=str(fake))
    assert result.returncode == 3
    assert "Odoo 16 found" in result.stderr
