"""Door 4 of the access matrix: the agencies' secrets.

The API key and the webhook secrets of an agency (``groups=`` managers on
``followup.agency``) are asked for in every way the web client and the
external API read a record, over ``/web/dataset/call_kw`` by every internal
role, on the agency of the role's company: the raw response is searched for
the secrets' values. Then every log record (of any logger, at any level) is
captured while the addon calls the agency's sandbox (connection check, status
poll, a refused call, a case sent) and while the agency delivers a signed
callback: neither the key, nor a secret, nor the signature may appear.
"""

import base64
import importlib
import json
import logging
import os
import uuid

from odoo.exceptions import UserError

from .common_access import INTERNAL_ROLES, text_table
from .common_agency import sandbox_testing

_logger = logging.getLogger(__name__)

SECRET_FIELDS = ("api_key", "webhook_secret", "webhook_secret_previous")
MANAGER = "followup_manager"

#: what each call shows of the secrets, for each internal role (in the order
#: of INTERNAL_ROLES): "shown" a secret's value is in the response; "hidden":
#: it answered without any; "denied": an AccessError; "listed": fields_get
#: describes the secret fields (their values are never in it)
EXPECTED_SECRETS = {
    "read (secret fields)": ("denied", "denied", "denied", "shown", "denied"),
    "read (all fields)": ("denied", "denied", "hidden", "shown", "hidden"),
    "search_read (secret fields)": ("denied", "denied", "denied", "shown", "denied"),
    "search_read (all fields)": ("denied", "denied", "hidden", "shown", "hidden"),
    "web_read": ("denied", "denied", "denied", "shown", "denied"),
    "web_search_read": ("denied", "denied", "denied", "shown", "denied"),
    "fields_get": ("hidden", "hidden", "hidden", "listed", "hidden"),
    "onchange": ("denied", "denied", "denied", "hidden", "denied"),
    "export_data": ("denied", "denied", "denied", "shown", "denied"),
    "read_group (grouped by api_key)": (
        "denied",
        "denied",
        "denied",
        "shown",
        "denied",
    ),
    "read_group (array_agg of webhook_secret)": (
        "denied",
        "denied",
        "denied",
        "shown",
        "denied",
    ),
    "search_count (domain on api_key)": (
        "denied",
        "denied",
        "denied",
        "shown",
        "denied",
    ),
    "copy_data": ("denied", "denied", "denied", "hidden", "denied"),
    "fetch": ("denied", "denied", "denied", "hidden", "denied"),
}


class _Capture(logging.Handler):
    """Keeps the text of every record it is given."""

    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.texts = []

    def emit(self, record):
        text = [record.name, record.getMessage(), repr(record.args)]
        if record.exc_info:
            text.append(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            text.append(record.stack_info)
        self.texts.append("\n".join(text))


class _CaptureAll:
    """Every log record of the process, at every level, goes to a
    ``_Capture`` on the root logger only while the block runs; the levels
    and handlers are put back after."""

    def __enter__(self):
        self.capture = _Capture()
        root = logging.getLogger()
        loggers = [root] + [
            logger
            for logger in logging.Logger.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        self.saved = [(logger, logger.level, logger.disabled) for logger in loggers]
        self.root_handlers = root.handlers[:]
        # the console keeps quiet: debug records of every logger (queries
        # with their parameters included) go to the capture only
        root.handlers = [self.capture]
        for logger in loggers:
            logger.disabled = False
            if logger is root or logger.level != logging.NOTSET:
                logger.setLevel(logging.DEBUG)
        return self.capture

    def __exit__(self, *exc_info):
        root = logging.getLogger()
        root.handlers = self.root_handlers
        for logger, level, disabled in self.saved:
            logger.setLevel(level)
            logger.disabled = disabled
        return False


class SecretDoors:
    """``test_4_secrets``, for the access matrix's test class."""

    def _all_secrets(self):
        """``{value: name}`` of every secret of both agencies."""
        found = {}
        for agency in (self.agency, self.agency_b):
            for field in SECRET_FIELDS:
                value = agency.sudo()[field]
                if value:
                    found[value] = f"{agency.company_id.name} {field}"
        return found

    def _secret_calls(self, agency):
        """``{row: (method, args, kwargs)}`` on ``agency``."""
        spec = {field: {} for field in ("name", *SECRET_FIELDS)}
        ids = agency.ids
        domain = [("id", "in", ids)]
        return {
            "read (secret fields)": ("read", [ids, list(SECRET_FIELDS)], {}),
            "read (all fields)": ("read", [ids], {}),
            "search_read (secret fields)": (
                "search_read",
                [domain, list(SECRET_FIELDS)],
                {},
            ),
            "search_read (all fields)": ("search_read", [domain], {}),
            "web_read": ("web_read", [ids], {"specification": spec}),
            "web_search_read": (
                "web_search_read",
                [domain],
                {"specification": spec},
            ),
            "fields_get": ("fields_get", [], {}),
            "onchange": ("onchange", [ids, {}, [], spec], {}),
            "export_data": ("export_data", [ids, list(SECRET_FIELDS)], {}),
            "read_group (grouped by api_key)": (
                "read_group",
                [domain, ["api_key"], ["api_key"]],
                {"lazy": False},
            ),
            "read_group (array_agg of webhook_secret)": (
                "read_group",
                [domain, ["webhook_secret:array_agg"], ["company_id"]],
                {},
            ),
            "search_count (domain on api_key)": (
                "search_count",
                [[("api_key", "=", agency.sudo().api_key)]],
                {},
            ),
            "copy_data": ("copy_data", [ids], {}),
            "fetch": ("fetch", [ids, list(SECRET_FIELDS)], {}),
        }

    def _secret_outcome(self, row, outcome, text, result, secrets):
        if outcome != "ok":
            return outcome
        if row == "fields_get":
            return "listed" if set(SECRET_FIELDS) & set(result) else "hidden"
        if row.startswith("search_count"):
            # a count that finds the agency by its key is an oracle on the key
            return "shown" if result else "hidden"
        return "shown" if any(secret in text for secret in secrets) else "hidden"

    def _test_secret_reads(self, failures):
        secrets = self._all_secrets()
        # the export is tried as by a user who may export (many databases
        # give every user the right)
        export = self.env.ref("base.group_allow_export")
        for role in INTERNAL_ROLES:
            self.users[role].sudo().groups_id = [(4, export.id)]
        got = {}
        for role in INTERNAL_ROLES:
            self._login(role)
            agency = self.agency_b if role == "other_company_user" else self.agency
            for row, (method, args, kwargs) in self._secret_calls(agency).items():
                outcome, text, result = self._call_kw(
                    "followup.agency", method, args, kwargs
                )
                cell = self._secret_outcome(row, outcome, text, result, secrets)
                got.setdefault(row, {})[role] = cell
                if role != MANAGER and cell not in ("denied", "hidden"):
                    failures.append(f"{row} {role}: {cell}")
        rows = []
        for row, cells in got.items():
            cells = [cells[role] for role in INTERNAL_ROLES]
            rows.append([row, *cells])
            if tuple(cells) != EXPECTED_SECRETS.get(row):
                failures.append(f"{row}: {' | '.join(cells)}")
        self.assertEqual(set(got), set(EXPECTED_SECRETS))
        self.tables["4a"] = text_table(
            "4a. The agency's API key and webhook secrets, asked for over "
            "/web/dataset/call_kw on the agency of the role's company: shown "
            "(a secret's value in the response), hidden, denied (AccessError); "
            "fields_get: listed or hidden. Every role may export here",
            ["call", *INTERNAL_ROLES],
            rows,
        )

    # ------------------------------------------------------------------
    # the log
    # ------------------------------------------------------------------
    def _agency_calls(self):
        """``{row: call}``: what makes the addon talk to the agency, or the
        agency to the addon, each run with every log record captured."""
        agency = self.agency.sudo()
        case = self.agency_records["a"]["followup.agency.case"].sudo()
        sandbox_testing()  # puts the sandbox on sys.path
        signatures = importlib.import_module("agency_sandbox.signatures")

        def refused_check():
            self.sandbox.add_fault("status", method="GET", path="*", status=401)
            try:
                agency.with_user(self.users[MANAGER]).action_test_connection()
            finally:
                self.sandbox.clear_faults()

        def sent_now():
            # the case's submission, then the refresh waiting for it
            Request = self.env["followup.agency.request"].sudo()
            Request.create(
                {
                    "agency_id": self.agency.id,
                    "case_id": case.id,
                    "kind": "create",
                    "idempotency_key": str(uuid.uuid4()),
                }
            )
            case.with_user(self.users["followup_user"]).action_send_now()
            for _round in range(2):
                Request._cron_send_requests()

        def webhook():
            raw = json.dumps(
                {
                    "id": str(uuid.uuid4()),
                    "specVersion": "1.0",
                    "event": "case.updated",
                    "timestamp": "2026-12-05T10:00:00Z",
                    "classification": "test",
                    "data": {"caseId": str(uuid.uuid4())},
                }
            ).encode()
            header = signatures.signature_header([self.secrets["webhook_secret"]], raw)
            self.signatures_sent.append(header)
            response = self.url_open(
                f"/receivables_followup/agency/{self.agency.id}/webhook",
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Debitura-Signature": header,
                    "X-Debitura-Event": "case.updated",
                },
            )
            self.assertEqual(response.status_code, 200, response.text)
            self.env["followup.agency.event"].sudo()._cron_process_events()

        def bad_signature():
            raw = b'{"id": "x", "event": "case.updated", "data": {}}'
            # signed with a secret the addon does not know
            header = signatures.signature_header(
                [base64.b64encode(os.urandom(24)).decode()], raw
            )
            self.signatures_sent.append(header)
            response = self.url_open(
                f"/receivables_followup/agency/{self.agency.id}/webhook",
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Debitura-Signature": header,
                },
            )
            self.assertEqual(response.status_code, 401, response.text)

        return {
            "connection check": lambda: agency.with_user(
                self.users[MANAGER]
            ).action_test_connection(),
            "connection check refused by the agency (401)": refused_check,
            "status poll": lambda: self.env["followup.agency"]._cron_poll_agencies(),
            "case submitted (outbox)": sent_now,
            "signed callback, then processed": webhook,
            "callback with a wrong signature": bad_signature,
        }

    def _test_secret_logs(self, failures):
        self.signatures_sent = []
        rows = []
        for row, call in self._agency_calls().items():
            outcome = "ok"
            calls_before = len(self.sandbox.request_log())
            with _CaptureAll() as capture:
                # the canary: a secret logged at DEBUG is found
                _logger.debug("canary %s", self.secrets["api_key"])
                try:
                    with self.env.cr.savepoint():
                        call()
                        self.env.flush_all()
                except UserError as error:
                    # what the user reads goes to the log too
                    outcome = "refused"
                    _logger.info("%s refused: %s", row, error)
            secrets = {**self._all_secrets()}
            for header in self.signatures_sent:
                for part in header.split(","):
                    if part.startswith("v1="):
                        secrets[part[3:]] = "signature"
            canary, *texts = capture.texts
            self.assertIn(self.secrets["api_key"], canary, "the capture works")
            found = sorted(
                {
                    name
                    for text in texts
                    for secret, name in secrets.items()
                    if secret in text
                }
            )
            calls = len(self.sandbox.request_log()) - calls_before
            if found:
                failures.append(f"log of {row}: {', '.join(found)}")
            if not capture.texts:
                failures.append(f"log of {row}: nothing captured")
            _logger.info(
                "DEBUGNAMES %s", sorted({t.split(chr(10))[0] for t in capture.texts})
            )
            rows.append([row, outcome, calls, len(texts), ", ".join(found) or "none"])
        self.tables["4b"] = text_table(
            "4b. Every log record (all loggers, DEBUG and up, SQL included) "
            "while the addon and the agency talk: the secrets found in them",
            ["exchange", "outcome", "agency API calls", "records", "secrets found"],
            rows,
        )

    def test_4_secrets(self):
        failures = []
        self._test_secret_reads(failures)
        self._test_secret_logs(failures)
        self.assertFalse(failures, "\n".join(failures))
