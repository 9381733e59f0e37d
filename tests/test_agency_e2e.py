"""scripts/agency-e2e: the agency end-to-end scenario, run as a user runs it."""

import io
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMMAND = REPO / "scripts" / "agency-e2e"
STEPS = [
    "me",
    "preview",
    "create",
    "replay",
    "conflict",
    "get",
    "by-creditor-reference",
    "upload-file",
    "chat",
    "list-by-update",
    "advance-active",
    "advance-closed-paid",
    "closed-state",
    "payments",
    "cleanup",
]
STEP_LINE = re.compile(r"^step (\d\d) (\S+) (ok|skipped|FAILED)\b(.*)$")

sys.path.insert(0, str(REPO))
from agency_sandbox.testing import SandboxProcess  # noqa: E402


def run_command(*args, env=None, timeout=180):
    environment = {k: v for k, v in os.environ.items() if k != "DEBITURA_API_KEY"}
    environment.update(env or {})
    return subprocess.run(
        [str(COMMAND), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=str(REPO / "tests"),  # the wrapper moves to the repository root itself
    )


def step_lines(stdout):
    return [m.groups() for m in map(STEP_LINE.match, stdout.splitlines()) if m]


def test_default_run_starts_a_sandbox_and_every_step_passes():
    result = run_command()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "against the sandbox at http://127.0.0.1:" in result.stdout
    steps = step_lines(result.stdout)
    assert [name for _, name, _, _ in steps] == STEPS, output
    assert all(status == "ok" for _, _, status, _ in steps), output
    by_name = {name: detail for _, name, _, detail in steps}
    assert "company Sandbox Creditor ApS" in by_name["me"]
    assert "eligible, partner " in by_name["preview"]
    assert "IdempotencyConflict, classified conflict" in by_name["conflict"]
    assert "-> closed_paid" in by_name["closed-state"]
    assert "1250.5 EUR" in by_name["payments"]
    assert "deleted" in by_name["cleanup"]
    assert "all steps ok (15 ok, 0 skipped)" in result.stdout


def test_json_summary():
    result = run_command("--json", "--tag", "rf-e2e-json-test")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is True and summary["sandbox"] is True
    assert summary["tag"] == "rf-e2e-json-test"
    assert [step["step"] for step in summary["steps"]] == STEPS
    assert {step["status"] for step in summary["steps"]} == {"ok"}


def test_any_base_url_with_the_key_from_the_environment():
    """The real-account path (--base-url, $DEBITURA_API_KEY, no --user-email),
    pointed at a sandbox the test started: the chat step is skipped, the cases of
    the tag are deleted, and the key is never printed."""
    key = f"right-{secrets.token_hex(12)}"
    with SandboxProcess(api_key=key, port=0) as agency:
        result = run_command(
            "--base-url",
            agency.base_url,
            "--tag",
            "rf-e2e-env-key",
            env={"DEBITURA_API_KEY": key},
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert key not in output
        statuses = {name: status for _, name, status, _ in step_lines(result.stdout)}
        assert statuses.pop("chat") == "skipped"
        assert set(statuses.values()) == {"ok"}
        assert agency.cases() == []  # deleted by tag at the end
        created = agency.request_log(method="POST", path="/cases")
        sent = [entry["body"] for entry in created if isinstance(entry["body"], dict)]
        assert sent and all(body["isTest"] is True for body in sent)
        assert {body["tag"] for body in sent} == {"rf-e2e-env-key"}
        assert all(len(body["claimLines"]) == 2 for body in sent)
        assert all("amountToRecover" not in body for body in sent)
        assert not any(key in json.dumps(entry) for entry in created)


def test_wrong_api_key_fails_at_the_first_step_without_showing_it():
    wrong = f"wrong-{secrets.token_hex(12)}"
    with SandboxProcess(api_key=f"right-{secrets.token_hex(12)}", port=0) as agency:
        result = run_command("--base-url", agency.base_url, "--api-key", wrong)
        cases = agency.cases()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    steps = step_lines(result.stdout)
    assert len(steps) == 1, output
    number, name, status, detail = steps[0]
    assert (number, name, status) == ("01", "me", "FAILED")
    assert "authentication failed" in detail and "401" in detail
    assert wrong not in output
    assert cases == []


def test_a_failed_step_stops_the_run_and_the_test_case_is_deleted():
    key = f"right-{secrets.token_hex(12)}"
    with SandboxProcess(api_key=key, port=0) as agency:
        agency.add_fault("status", method="POST", path="/cases/*/files", status=503)
        result = run_command("--base-url", agency.base_url, "--api-key", key)
        cases = agency.cases()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    steps = step_lines(result.stdout)
    assert [name for _, name, _, _ in steps] == STEPS[:8], output
    assert steps[-1][2] == "FAILED" and "transient (HTTP 503)" in steps[-1][3]
    assert "cleanup after the failure: ok" in result.stdout
    assert cases == []
    assert key not in output


def test_base_url_needs_a_key():
    result = run_command("--base-url", "https://customer-api.example")
    assert result.returncode == 2
    assert "--api-key" in result.stderr


def test_plain_http_is_refused_for_a_remote_host():
    result = run_command(
        "--base-url", "http://customer-api.example", "--api-key", "never-shown"
    )
    assert result.returncode == 2
    assert "https" in result.stderr
    assert "never-shown" not in result.stdout + result.stderr


def test_the_uploaded_pdf_is_a_valid_one_page_document():
    pypdf = pytest.importorskip("PyPDF2")
    # imported in a child process: the script puts the addon's directory on
    # sys.path, which this test session must not inherit
    code = (
        "import sys; sys.path.insert(0, 'scripts'); import agency_e2e; "
        "sys.stdout.buffer.write(agency_e2e.minimal_pdf(sys.argv[1:]))"
    )
    lines = ["Invoice (INV-1) \\ 100.00 EUR", "second line"]
    pdf = subprocess.run(
        [sys.executable, "-c", code, *lines],
        capture_output=True,
        check=True,
        cwd=str(REPO),
        timeout=60,
    ).stdout
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Invoice (INV-1) \\ 100.00 EUR" in text and "second line" in text
