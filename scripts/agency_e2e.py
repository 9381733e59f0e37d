"""The agency end-to-end scenario, against the sandbox or a real Debitura account.

    scripts/agency-e2e                                    # starts its own sandbox
    scripts/agency-e2e --base-url https://customer-api.debitura.com \\
        --api-key KEY --user-email you@example.com        # a real account, test mode

Every call goes through the addon's own HTTP client and payload code
(``receivables_followup/services/debitura``), the code the addon runs. Everything it
creates is a test case (``isTest: true``) carrying one tag; the cases of that tag are
deleted through the test endpoint at the end unless ``--keep``. Each step prints one
line, ``step NN name ok (detail)`` or ``step NN name FAILED: reason``; the run stops
at the first failure and exits 1. The API key is never printed nor logged.

Options: --base-url URL  --api-key KEY (or $DEBITURA_API_KEY)  --user-email EMAIL
         --tag TAG (default rf-e2e-<random>)  --keep  --json
"""

import argparse
import ipaddress
import json
import os
import secrets
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parents[1]
# ``receivables_followup/__init__.py`` imports Odoo; its ``services`` package does
# not, so it is imported as a top-level package from the addon's directory.
for _path in (REPO / "receivables_followup", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import requests  # noqa: E402
from services import agency_errors  # noqa: E402
from services.agency_errors import AgencyError  # noqa: E402
from services.debitura import const, payloads  # noqa: E402
from services.debitura.client import DebituraClient  # noqa: E402
from services.debitura.payloads import Claim, ClaimLine, Debtor  # noqa: E402

ENV_API_KEY = "DEBITURA_API_KEY"
SANDBOX_USER_EMAIL = "accountant@sandbox-creditor.example"
PAGE_SIZE = 50
EXIT_FAILED, EXIT_USAGE = 1, 2


class StepFailed(Exception):
    """The step's answer was not what the scenario expects."""


class StepSkipped(Exception):
    """The step cannot run with what was given; the message says why."""


# ----------------------------------------------------------------------
# a one-page PDF, written by hand
# ----------------------------------------------------------------------
def _pdf_text(text):
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("latin-1", "replace")


def minimal_pdf(lines):
    """A valid one-page A4 PDF 1.4 showing ``lines`` in Helvetica, with a correct
    cross-reference table (byte offsets of every object)."""
    content = b"BT /F1 12 Tf 72 770 Td 16 TL\n"
    content += b"".join(b"(" + _pdf_text(line) + b") Tj T*\n" for line in lines)
    content += b"ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# ----------------------------------------------------------------------
# the scenario
# ----------------------------------------------------------------------
def is_loopback(url):
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe(error):
    """One line for an :class:`AgencyError` (the client already scrubbed the key)."""
    status = f"HTTP {error.status}" if error.status else "no HTTP answer"
    if error.kind == agency_errors.AUTH:
        return (
            f"authentication failed: the agency refused the API key ({status}: "
            f"{error.message})"
        )
    return f"{error.kind} ({status}): {error.message}"


class Scenario:
    """The steps, in order, sharing what earlier steps created."""

    def __init__(self, client, tag, user_email, keep):
        self.client = client
        self.tag = tag
        self.user_email = user_email
        self.keep = keep
        suffix = secrets.token_hex(6).upper()
        today = date.today()
        self.claim = Claim(
            creditor_reference=f"RF-E2E-{suffix}",
            currency="EUR",
            date=today - timedelta(days=75),
            debtor=Debtor(
                is_company=True,
                name="RF E2E Test Debtor GmbH",
                address="Teststrasse 1",
                zip="10115",
                city="Berlin",
                country_code="DE",
            ),
            lines=[
                ClaimLine(f"E2E-{suffix}-1", today - timedelta(days=60), 423.42),
                ClaimLine(f"E2E-{suffix}-2", today - timedelta(days=30), 827.08),
            ],
            comments="End-to-end test of the receivables_followup connector.",
            is_test=True,
            tag=tag,
            creditor_name="receivables_followup agency-e2e",
        )
        self.body = payloads.case_body(self.claim)
        self.idempotency_key = f"rf-e2e-{uuid.uuid4()}"
        self.case_id = None
        self.created = False
        self.first_answer = None

    @property
    def total(self):
        return self.claim.total

    def steps(self):
        return [
            ("me", self.me),
            ("preview", self.preview),
            ("create", self.create),
            ("replay", self.replay),
            ("conflict", self.conflict),
            ("get", self.get),
            ("by-creditor-reference", self.by_creditor_reference),
            ("upload-file", self.upload_file),
            ("chat", self.chat),
            ("list-by-update", self.list_by_update),
            ("advance-active", self.advance_active),
            ("advance-closed-paid", self.advance_closed_paid),
            ("closed-state", self.closed_state),
            ("payments", self.payments),
            ("cleanup", self.cleanup),
        ]

    # -- the test endpoints the client has no method for ---------------
    def _test_call(self, method, path, **kwargs):
        # The client's own transport: its session, its headers (``Accept`` and
        # ``XApiKey``), no redirects, its timeout, its error classification and
        # key scrubbing. The addon never calls the test endpoints.
        return self.client._call(method, path, **kwargs)

    def _case_path(self):
        return quote(str(self.case_id), safe="")

    # -- steps ----------------------------------------------------------
    def me(self):
        creditor = self.client.me() or {}
        name = creditor.get("companyName")
        if not name:
            raise StepFailed("GET /me answered without a companyName")
        return f"company {name}"

    def preview(self):
        answer = self.client.preview_case(payloads.preview_body(self.claim))
        preview = payloads.parse_preview(answer, claim_total=self.total)
        if not preview.eligible:
            raise StepFailed(
                f"the claim is not eligible ({preview.ineligibility_code}): "
                f"{preview.note}"
            )
        blocking = [a for a in preview.required_actions if a.is_blocking]
        if blocking:
            raise StepFailed(
                "the account must act first: "
                + "; ".join(f"{a.type}: {a.message}" for a in blocking)
            )
        return (
            f"eligible, partner {preview.partner_name}, success fee "
            f"{preview.fee_rate}% = {preview.fee_amount} {self.claim.currency} "
            f"of {self.total} {self.claim.currency}"
        )

    def create(self):
        answer = self.client.create_case(self.body, self.idempotency_key)
        case = payloads.parse_case(answer)
        if not case.agency_id:
            raise StepFailed("POST /cases answered without a case id")
        self.case_id = case.agency_id
        self.created = True
        self.first_answer = answer
        if not case.is_test:
            raise StepFailed(f"case {case.agency_id} is not a test case (isTestCase)")
        if case.creditor_reference != self.claim.creditor_reference:
            raise StepFailed(
                f"creditorReference came back as {case.creditor_reference}"
            )
        if case.amount_handed is not None and case.amount_handed != self.total:
            raise StepFailed(f"grossAmount {case.amount_handed}, sent {self.total}")
        return (
            f"case {case.agency_id}, reference {case.reference}, "
            f"{case.creditor_reference}, {case.amount_handed} {case.currency}, "
            f"lifecycle {case.lifecycle} -> {case.state}, tag {self.tag}"
        )

    def replay(self):
        answer = self.client.create_case(self.body, self.idempotency_key)
        case_id = (answer or {}).get("id")
        if case_id != self.case_id:
            raise StepFailed(f"the replay answered case {case_id}, not {self.case_id}")
        same = "the first answer verbatim" if answer == self.first_answer else "same id"
        return f"same key and body -> case {case_id} again ({same})"

    def conflict(self):
        other = {**self.body, "comments": self.body["comments"] + "\n(changed)"}
        try:
            answer = self.client.create_case(other, self.idempotency_key)
        except AgencyError as error:
            if error.kind != agency_errors.CONFLICT:
                raise StepFailed(
                    f"expected a 422 IdempotencyConflict, got {describe(error)}"
                ) from None
            return f"HTTP {error.status} {error.error_type}, classified {error.kind}"
        raise StepFailed(
            f"the same key with another body was accepted (case "
            f"{(answer or {}).get('id')})"
        )

    def get(self):
        case = payloads.parse_case(self.client.get_case(self.case_id))
        if case.agency_id != self.case_id:
            raise StepFailed(f"GET /cases/{self.case_id} answered {case.agency_id}")
        return (
            f"lifecycle {case.lifecycle} -> {case.state}, {case.amount_remaining} left"
        )

    def by_creditor_reference(self):
        ref = self.claim.creditor_reference
        found = self.client.find_case_by_creditor_reference(ref)
        if found is None:
            raise StepFailed(f"no case found for creditor reference {ref}")
        if found.get("id") != self.case_id:
            raise StepFailed(f"{ref} names case {found.get('id')}, not {self.case_id}")
        return f"{ref} -> case {found['id']}"

    def upload_file(self):
        lines = [
            f"Invoice {line.reference}  due {line.due_date}  {line.amount:.2f} EUR"
            for line in self.claim.claim_lines
        ]
        pdf = minimal_pdf(
            ["receivables_followup end-to-end test", "", *lines, f"Tag: {self.tag}"]
        )
        name = f"{self.claim.creditor_reference}.pdf"
        answer = self.client.upload_file(
            self.case_id,
            name,
            pdf,
            description="End-to-end test invoice",
            document_type=const.DOCUMENT_TYPES[0],
        )
        answer = answer or {}
        return (
            f"file {answer.get('id')} {answer.get('fileName') or name}, "
            f"{len(pdf)} bytes, {answer.get('documentType')}"
        )

    def chat(self):
        if not self.user_email:
            raise StepSkipped(
                "no --user-email: the message must be signed by a team member"
            )
        answer = self.client.send_chat(
            self.case_id,
            "End-to-end test message from receivables_followup (test case).",
            user_email=self.user_email,
        )
        answer = answer or {}
        return f"chat {answer.get('id')} as {self.user_email}"

    def list_by_update(self):
        answer = self.client.list_cases(
            page=1, page_size=PAGE_SIZE, sort="DateUpdated:desc"
        )
        cases = (answer or {}).get("cases") or []
        ids = [item.get("id") for item in cases]
        if self.case_id not in ids:
            raise StepFailed(
                f"case {self.case_id} is not among the {len(ids)} cases updated last"
            )
        ref = self.claim.creditor_reference
        same_ref = [item for item in cases if item.get("creditorReference") == ref]
        if len(same_ref) != 1:
            raise StepFailed(f"{len(same_ref)} cases carry {ref}: the replay made two")
        stamps = [payloads.parse_datetime(item.get("dateUpdated")) for item in cases]
        stamps = [stamp for stamp in stamps if stamp]
        if stamps != sorted(stamps, reverse=True):
            raise StepFailed("the cases are not sorted by dateUpdated descending")
        position = ids.index(self.case_id) + 1
        return f"position {position} of {len(ids)}, one case with {ref}"

    def _advance(self, target, **extra):
        answer = self._test_call(
            "POST",
            f"/test/cases/{self._case_path()}/advance",
            json={"to": target, **extra},
        )
        state = (answer or {}).get("state")
        if state != target:
            raise StepFailed(f"advance to {target} left the case in {state}")
        return f"{target} (advanced: {(answer or {}).get('advanced')})"

    def advance_active(self):
        return self._advance("Active")

    def advance_closed_paid(self):
        return self._advance("Closed:Paid", amount=self.total) + f", paid {self.total}"

    def closed_state(self):
        case = payloads.parse_case(self.client.get_case(self.case_id))
        if case.state != const.CLOSED_PAID:
            raise StepFailed(
                f"lifecycle {case.lifecycle}, close code {case.close_code} map to "
                f"{case.state}, not {const.CLOSED_PAID}"
            )
        return (
            f"lifecycle {case.lifecycle}, close code {case.close_code} -> "
            f"{case.state}, collected {case.amount_collected}, "
            f"remaining {case.amount_remaining}"
        )

    def payments(self):
        answer = self.client.case_payments(self.case_id)
        items = answer if isinstance(answer, list) else []
        found = [payloads.parse_payment(item) for item in items]
        ours = [p for p in found if p.amount == self.total]
        if not ours:
            amounts = ", ".join(str(p.amount) for p in found) or "none"
            raise StepFailed(f"no payment of {self.total} (payments: {amounts})")
        payment = ours[0]
        if payment.case_id not in (None, self.case_id):
            raise StepFailed(
                f"payment {payment.payment_id} names case {payment.case_id}"
            )
        return (
            f"{len(found)} payment(s): {payment.payment_id} {payment.amount} "
            f"{payment.currency} on {payment.date}, recipient {payment.recipient}"
        )

    def cleanup(self):
        if self.keep:
            raise StepSkipped(f"--keep: case {self.case_id} kept, tag {self.tag}")
        return self.delete_by_tag()

    def delete_by_tag(self):
        self._test_call("DELETE", "/test/cases", params={"tag": self.tag})
        try:
            self.client.get_case(self.case_id)
        except AgencyError as error:
            if error.kind == agency_errors.NOT_FOUND:
                return (
                    f"test cases tagged {self.tag} deleted; case {self.case_id} is gone"
                )
            raise
        raise StepFailed(f"case {self.case_id} is still there after the deletion")


# ----------------------------------------------------------------------
# running and reporting
# ----------------------------------------------------------------------
class Report:
    """Prints a line per step (text mode) and keeps the JSON summary."""

    def __init__(self, as_json, secret):
        self.as_json = as_json
        self.secret = secret
        self.steps = []

    def safe(self, text):
        text = str(text)
        return text.replace(self.secret, "***") if self.secret else text

    def say(self, text):
        if not self.as_json:
            print(self.safe(text), flush=True)

    def record(self, number, name, status, detail, seconds):
        entry = {
            "step": name,
            "status": status,
            "detail": self.safe(detail),
            "ms": round(seconds * 1000),
        }
        self.steps.append(entry)
        if status == "failed":
            self.say(f"step {number:02d} {name} FAILED: {detail}")
        else:
            self.say(f"step {number:02d} {name} {status} ({detail})")


def run_step(func):
    """``(status, detail)`` of one step; never raises for an expected failure."""
    try:
        return "ok", func()
    except StepSkipped as skip:
        return "skipped", str(skip)
    except StepFailed as failure:
        return "failed", str(failure)
    except AgencyError as error:
        return "failed", describe(error)
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        return "failed", f"unexpected {type(exc).__name__}: {exc}"


def run(args, base_url, api_key, report):
    """Run the scenario against ``base_url``; return the summary dict."""
    session = requests.Session()
    if is_loopback(base_url):
        session.trust_env = False  # never send loopback calls through a proxy
    client = DebituraClient(base_url, api_key, session=session)
    scenario = Scenario(client, args.tag, args.user_email, args.keep)
    summary = {
        "ok": False,
        "baseUrl": client.base_url,
        "sandbox": not args.base_url,
        "tag": args.tag,
        "creditorReference": scenario.claim.creditor_reference,
        "caseId": None,
        "kept": args.keep,
        "steps": report.steps,
        "failure": None,
    }
    try:
        steps = scenario.steps()
        for number, (name, func) in enumerate(steps, start=1):
            started = time.monotonic()
            status, detail = run_step(func)
            report.record(number, name, status, detail, time.monotonic() - started)
            summary["caseId"] = scenario.case_id
            if status == "failed":
                summary["failure"] = report.safe(f"{name}: {detail}")
                break
        else:
            summary["ok"] = True
        if not summary["ok"] and scenario.created and not args.keep:
            # do not leave test cases behind in a real account
            status, detail = run_step(scenario.delete_by_tag)
            summary["cleanupAfterFailure"] = report.safe(detail)
            report.say(f"cleanup after the failure: {status} ({detail})")
    finally:
        session.close()
    return summary


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="scripts/agency-e2e",
        description=(
            "Run the agency end-to-end scenario with the addon's Debitura client: "
            "against a sandbox it starts (default), or against --base-url with "
            "--api-key (test cases only, isTest)."
        ),
    )
    parser.add_argument("--base-url", help="e.g. https://customer-api.debitura.com")
    parser.add_argument(
        "--api-key", help=f"the account's API key (default: ${ENV_API_KEY})"
    )
    parser.add_argument(
        "--user-email",
        help="a team member's e-mail for the chat step (default against the "
        f"sandbox: {SANDBOX_USER_EMAIL}; without it the step is skipped)",
    )
    parser.add_argument("--tag", help="tag of the test cases (default rf-e2e-<random>)")
    parser.add_argument(
        "--keep", action="store_true", help="do not delete the test cases at the end"
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary instead of lines"
    )
    args = parser.parse_args(argv)
    if args.tag is None:
        args.tag = f"rf-e2e-{secrets.token_hex(4)}"
    if not args.tag.strip() or len(args.tag) > const.MAX_TAG:
        parser.error(f"--tag must be 1 to {const.MAX_TAG} characters")
    if args.base_url:
        parts = urlsplit(args.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            parser.error("--base-url must be an http(s) URL")
        if parts.scheme == "http" and not is_loopback(args.base_url):
            parser.error(
                "--base-url must use https (the API key would travel in clear)"
            )
        args.api_key = args.api_key or os.environ.get(ENV_API_KEY)
        if not args.api_key:
            parser.error(f"--base-url needs --api-key (or ${ENV_API_KEY})")
    elif args.api_key:
        parser.error("--api-key goes with --base-url (the sandbox gets a random key)")
    elif args.user_email is None:
        args.user_email = SANDBOX_USER_EMAIL
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sandbox = None
    api_key = args.api_key
    if not args.base_url:
        from agency_sandbox.testing import SandboxProcess

        api_key = f"e2e-{secrets.token_urlsafe(24)}"
        sandbox = SandboxProcess(api_key=api_key, port=0)
    report = Report(args.json, api_key)
    try:
        if sandbox is not None:
            try:
                sandbox.start()
            except Exception as exc:  # SandboxError, OSError...
                report.say(f"FAILED: the sandbox did not start: {exc}")
                if args.json:
                    print(json.dumps({"ok": False, "failure": report.safe(exc)}))
                return EXIT_FAILED
            base_url = sandbox.base_url
            where = f"the sandbox at {base_url} (started for this run)"
        else:
            base_url = args.base_url
            where = base_url
        report.say(f"agency-e2e against {where}, tag {args.tag}")
        summary = run(args, base_url, api_key, report)
    finally:
        if sandbox is not None:
            sandbox.stop()
            sandbox.cleanup()
    passed = sum(step["status"] == "ok" for step in summary["steps"])
    skipped = sum(step["status"] == "skipped" for step in summary["steps"])
    if args.json:
        print(report.safe(json.dumps(summary, indent=2)))
    elif summary["ok"]:
        report.say(f"all steps ok ({passed} ok, {skipped} skipped)")
    return 0 if summary["ok"] else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
