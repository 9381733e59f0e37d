"""The Debitura adapter's client against the sandbox of the Customer API v1 on
loopback: calls, error classification, and the agency's moves read back as our
states. The payloads, state mapping and backoff alone are in
``test_agency_debitura_payloads.py``."""

import json
import logging
from datetime import UTC, date, datetime, timedelta

import requests

from odoo.tests import BaseCase, tagged

from ..services import agency_errors as errors
from ..services.agency_errors import AgencyError
from ..services.debitura import const, payloads
from ..services.debitura.client import DebituraClient, http_error, parse_retry_after
from .common_agency import AgencySandboxMixin
from .common_debitura import make_claim

CLIENT_LOGGER = "odoo.addons.receivables_followup.services.debitura.client"
TEAM_MEMBER = "accountant@sandbox-creditor.example"


def fake_response(status, body=None, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


@tagged("post_install", "-at_install")
class TestDebituraClient(AgencySandboxMixin, BaseCase):
    def setUp(self):
        super().setUp()
        self.sandbox.reset(keep_settings=True)
        self.sandbox.clear_faults()
        self.client = DebituraClient(self.sandbox.base_url, self.sandbox_api_key)
        self.addCleanup(self.client.close)

    def _create(self, reference="RF-TEST-1", key=None, **changes):
        body = payloads.case_body(make_claim(reference, **changes))
        return self.client.create_case(body, key or f"{reference}-create")

    def _raises(self, call, *args, **kwargs):
        with self.assertRaises(AgencyError) as caught:
            call(*args, **kwargs)
        return caught.exception

    # ------------------------------------------------------------------
    # calls
    # ------------------------------------------------------------------
    def test_me_and_a_wrong_key(self):
        me = self.client.me()
        self.assertEqual(me["companyName"], "Sandbox Creditor ApS")
        error = self._raises(DebituraClient(self.sandbox.base_url, "wrong-key").me)
        self.assertEqual((error.kind, error.status), (errors.AUTH, 401))
        self.assertTrue(error.message)

    def test_preview_prices_the_claim_lines(self):
        claim = make_claim()
        body = payloads.preview_body(claim)
        # the preview request has no room for the debtor's identity
        self.assertEqual(set(body["debtor"]), {"type", "countryAlpha2"})
        self.assertNotIn("creditorReference", body)
        preview = payloads.parse_preview(
            self.client.preview_case(body, timeout=(2, 5)), claim_total=claim.total
        )
        self.assertTrue(preview.eligible)
        self.assertTrue(preview.partner_name)
        self.assertGreater(preview.fee_rate, 0)
        self.assertAlmostEqual(
            preview.fee_amount, round(1124.29 * preview.fee_rate / 100, 2)
        )
        self.assertFalse(preview.required_actions)

    def test_create_sends_claim_lines_and_the_agency_holds_those_amounts(self):
        dto = self._create()
        case = payloads.parse_case(dto)
        self.assertEqual(case.creditor_reference, "RF-TEST-1")
        self.assertEqual(case.state, const.SUBMITTED)
        self.assertEqual(case.amount_handed, 1124.29)
        self.assertEqual(case.amount_remaining, 1124.29)
        self.assertEqual(case.amount_collected, 0.0)
        self.assertEqual(case.updated_at.tzinfo, UTC)
        [logged] = self.sandbox.request_log(method="POST", path="/cases")
        sent = logged["body"]
        self.assertNotIn("amountToRecover", sent)
        self.assertNotIn("dueDate", sent)
        self.assertEqual(
            sent["claimLines"],
            [
                {
                    "dueDate": "2025-02-09",
                    "amount": 423.42,
                    "reference": "INV/2025/0001",
                },
                {
                    "dueDate": "2025-03-15",
                    "amount": 700.87,
                    "reference": "INV/2025/0007",
                },
            ],
        )
        # what the agency made of them (it keeps no lines): their sum, and the
        # oldest due date as the case's
        stored = self.sandbox.case(case.agency_id)
        self.assertEqual(stored["grossCents"], 112429)
        self.assertEqual(stored["dueDate"], "2025-02-09")
        # the partner never sees claim lines: the comments carry them
        for text in ("INV/2025/0001", "423.42", "INV/2025/0007", "700.87", "1124.29"):
            self.assertIn(text, dto["creditorComments"])

    def test_claim_lines_give_the_age_buckets(self):
        today = date.today()
        lines = [
            ("INV/OLD", today - timedelta(days=800), 100.0),
            ("INV/NEW", today - timedelta(days=30), 50.0),
        ]
        case_id = self._create(lines=lines)["id"]
        buckets = self.sandbox.case(case_id)["buckets"]
        self.assertEqual(
            (buckets["over6"], buckets["over12"], buckets["over24"]),
            (10000, 10000, 10000),
        )
        # the reference is what tells the agency an invoice came twice
        twice = [*lines, ("INV/OLD", today - timedelta(days=800), 100.0)]
        error = self._raises(self._create, "RF-TWICE", lines=twice)
        self.assertEqual(error.kind, errors.VALIDATION)
        self.assertIn("ClaimLines[2].Reference", error.field_errors)

    def test_same_key_and_body_replays_one_case(self):
        first = self._create(key="rf-key-1")
        second = self._create(key="rf-key-1")
        self.assertEqual(first["id"], second["id"])
        self.assertEqual(len(self.sandbox.cases()), 1)

    def test_same_key_other_body_is_a_conflict(self):
        self._create(key="rf-key-2")
        error = self._raises(self._create, "RF-TEST-OTHER", key="rf-key-2")
        self.assertEqual((error.kind, error.status), (errors.CONFLICT, 422))
        self.assertEqual(error.error_type, const.IDEMPOTENCY_CONFLICT)
        self.assertFalse(error.maybe_delivered)
        self.assertEqual(len(self.sandbox.cases()), 1)

    def test_invalid_idempotency_key_is_refused_before_sending(self):
        body = payloads.case_body(make_claim())
        for key in ("", "   ", "k" * 256):
            error = self._raises(self.client.create_case, body, key)
            self.assertEqual((error.kind, error.status), (errors.VALIDATION, None))
        self.assertFalse(self.sandbox.request_log(method="POST", path="/cases"))

    def test_field_errors_are_validation(self):
        body = payloads.case_body(make_claim())
        del body["debtor"]["name"]
        body["claimLines"][1]["dueDate"] = "2999-01-01"
        error = self._raises(self.client.create_case, body, "rf-key-400")
        self.assertEqual((error.kind, error.status), (errors.VALIDATION, 400))
        self.assertIn("Debtor.Name", error.field_errors)
        self.assertIn("ClaimLines[1].DueDate", error.field_errors)
        self.assertIn("Debtor.Name", error.message)
        # a 400 does not settle the key: the fixed body goes through with it
        body["debtor"]["name"] = "Dupont"
        body["claimLines"][1]["dueDate"] = "2025-03-15"
        self.assertTrue(self.client.create_case(body, "rf-key-400")["id"])

    def test_business_rule_is_business_with_the_agencys_message(self):
        debtor = payloads.Debtor(
            True, "Far Away KK", address="1-1 Chiyoda", city="Tokyo", country_code="JP"
        )
        error = self._raises(self._create, debtor=debtor)
        self.assertEqual((error.kind, error.status), (errors.BUSINESS, 422))
        self.assertEqual(error.error_type, "NoPartnerAvailable")
        self.assertIn("partner", error.message)
        self._create("RF-DUP")
        error = self._raises(self._create, "RF-DUP", key="another-key")
        self.assertEqual(error.error_type, "DuplicateCreditorReference")

    def test_rate_limit_gives_retry_after(self):
        self.sandbox.add_fault("rate_limit", method="GET", path="/me", retryAfter=7)
        error = self._raises(self.client.me)
        self.assertEqual((error.kind, error.status), (errors.RATE_LIMITED, 429))
        self.assertEqual(error.retry_after, 7.0)
        now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self.assertEqual(parse_retry_after("120", now=now), 120.0)
        self.assertEqual(
            parse_retry_after("Thu, 01 Jan 2026 12:01:30 GMT", now=now), 90.0
        )
        self.assertEqual(parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now), 0)
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after(None))

    def test_server_errors_are_transient_and_a_post_maybe_delivered(self):
        self.sandbox.add_fault(
            "status", method="POST", path="/cases", status=503, retryAfter=30
        )
        error = self._raises(self._create)
        self.assertEqual((error.kind, error.status), (errors.TRANSIENT, 503))
        self.assertTrue(error.maybe_delivered)
        self.assertEqual(error.retry_after, 30.0)
        self.sandbox.add_fault("status", method="GET", path="/me", status=500)
        error = self._raises(self.client.me)
        self.assertEqual((error.kind, error.status), (errors.TRANSIENT, 500))
        self.assertFalse(error.maybe_delivered)
        # the key was not settled by the 503
        self.assertTrue(self._create()["id"])

    def test_timeouts_and_dropped_connections_are_transient(self):
        impatient = DebituraClient(
            self.sandbox.base_url, self.sandbox_api_key, timeout=(2, 0.3)
        )
        self.addCleanup(impatient.close)
        body = payloads.case_body(make_claim())
        for fault in ("timeout", "reset", "lost_response"):
            self.sandbox.add_fault(fault, method="POST", path="/cases", seconds=1)
            error = self._raises(impatient.create_case, body, "rf-key-net")
            self.assertEqual((error.kind, error.status), (errors.TRANSIENT, None))
            self.assertTrue(error.maybe_delivered, fault)
        # the lost answer hid a created case: found again by its reference
        found = self.client.find_case_by_creditor_reference("RF-TEST-1")
        self.assertEqual(found["creditorReference"], "RF-TEST-1")
        self.assertEqual(self.client.create_case(body, "rf-key-net")["id"], found["id"])
        # nothing listens there: nothing can have been delivered
        error = self._raises(DebituraClient("http://127.0.0.1:9", "k").me)
        self.assertEqual(error.kind, errors.TRANSIENT)
        self.assertFalse(error.maybe_delivered)
        error = self._raises(DebituraClient("customer-api.example", "k").me)
        self.assertEqual(error.kind, errors.VALIDATION)

    def test_statuses_and_bodies_the_sandbox_does_not_send(self):
        cases = [
            # status, body, method -> kind, maybe delivered
            (403, {"error": "Forbidden"}, "GET", errors.AUTH, False),
            (408, None, "POST", errors.TRANSIENT, False),
            (409, {"businessErrors": [{"type": "IdempotencyRequestInProgress"}]},
             "POST", errors.TRANSIENT, True),
            (413, {"message": "File too large."}, "POST", errors.VALIDATION, False),
            (502, "<html>Bad gateway</html>", "POST", errors.TRANSIENT, True),
            (302, None, "GET", errors.VALIDATION, False),
        ]  # fmt: skip
        for status, body, method, kind, maybe_delivered in cases:
            error = http_error(fake_response(status, body), method)
            self.assertEqual(error.kind, kind, status)
            self.assertEqual(error.maybe_delivered, maybe_delivered, status)
            self.assertTrue(error.message, status)
        # the spec's 400 promise, read literally: the body is the field map
        error = http_error(fake_response(400, {"Debtor.City": ["Required."]}), "POST")
        self.assertEqual(error.field_errors, {"Debtor.City": ["Required."]})
        self.assertIn("Debtor.City: Required.", error.message)
        # an ASP.NET ValidationProblemDetails
        problem = {
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {"CurrencyCode": ["The CurrencyCode field is required."]},
        }
        error = http_error(fake_response(400, problem), "POST")
        self.assertEqual(list(error.field_errors), ["CurrencyCode"])
        self.assertTrue(error.message.startswith("One or more validation errors"))
        # several business errors: every message, the first type
        body = {
            "businessErrors": [
                {"type": "MissingDebtCollectionContract", "message": "Sign the SDCA."},
                {"type": "MissingPowerOfAttorney", "message": "Sign the PoA."},
            ]
        }
        error = http_error(fake_response(422, body), "POST")
        self.assertEqual(
            (error.kind, error.error_type),
            (errors.BUSINESS, body["businessErrors"][0]["type"]),
        )
        self.assertEqual(error.message, "Sign the SDCA. Sign the PoA.")

    def test_unknown_cases(self):
        self.assertIsNone(self.client.find_case_by_creditor_reference("RF/NOPE 1"))
        error = self._raises(
            self.client.get_case, "00000000-0000-0000-0000-000000000001"
        )
        self.assertEqual((error.kind, error.status), (errors.NOT_FOUND, 404))
        self.assertEqual(self._raises(self.client.get_case, "").kind, errors.VALIDATION)

    def test_list_sorted_by_date_updated(self):
        ids = [self._create(f"RF-LIST-{n}")["id"] for n in range(3)]
        self.sandbox.activate(ids[0])
        pages = [self.client.list_cases(page=page, page_size=2) for page in (1, 2)]
        listed = [payloads.parse_case(dto) for page in pages for dto in page["cases"]]
        self.assertEqual([case.agency_id for case in listed], [ids[1], ids[2], ids[0]])
        moments = [case.updated_at for case in listed]
        self.assertEqual(moments, sorted(moments))
        self.assertEqual(pages[0]["page"]["totalResults"], 3)
        active = self.client.list_cases(statuses=["Active"])["cases"]
        self.assertEqual([dto["id"] for dto in active], [ids[0]])
        chosen = self.client.list_cases(ids=ids[1:])["cases"]
        self.assertEqual({dto["id"] for dto in chosen}, set(ids[1:]))

    def test_payments(self):
        case_id = self._create()["id"]
        self.sandbox.activate(case_id)
        self.sandbox.register_payment(case_id, 400.0, date="2025-06-02")
        [payment] = [
            payloads.parse_payment(p) for p in self.client.case_payments(case_id)
        ]
        self.assertEqual(payment.amount, 400.0)
        self.assertEqual(payment.currency, "EUR")
        self.assertEqual(payment.date, date(2025, 6, 2))
        self.assertEqual(payment.case_id, case_id)
        self.assertTrue(payment.recipient)
        case = payloads.parse_case(self.client.get_case(case_id))
        self.assertEqual(case.amount_collected, 400.0)
        self.assertEqual(case.amount_remaining, 724.29)

    def test_file_upload(self):
        case_id = self._create()["id"]
        content = b"%PDF-1.4\n% a test invoice\n"
        answer = self.client.upload_file(
            case_id,
            "INV_2025_0001.pdf",
            content,
            description="INV/2025/0001",
            document_type="OriginalInvoice",
            idempotency_key="RF-TEST-1-file-1",
        )
        self.assertEqual(answer["fileName"], "INV_2025_0001.pdf")
        self.assertEqual(answer["description"], "INV/2025/0001")
        self.assertEqual(answer["documentType"], "OriginalInvoice")
        [stored] = self.sandbox.files()
        self.assertEqual(stored["size"], len(content))
        error = self._raises(self.client.upload_file, case_id, "virus.exe", b"MZ")
        self.assertEqual((error.kind, error.status), (errors.VALIDATION, 415))

    def test_chat(self):
        case_id = self._create()["id"]
        chat = self.client.send_chat(case_id, "Paid 400 EUR directly.", TEAM_MEMBER)
        self.assertEqual(chat["message"], "Paid 400 EUR directly.")
        chats = self.sandbox.api("GET", f"/cases/{case_id}/chats").json()
        self.assertIn("Paid 400 EUR directly.", [chat["message"] for chat in chats])
        error = self._raises(self.client.send_chat, case_id, "Nobody signs this.")
        self.assertEqual(error.kind, errors.VALIDATION)

    def test_api_key_never_logged(self):
        with self.assertLogs(CLIENT_LOGGER, level=logging.DEBUG) as logs:
            self.client.me()
            self._create()
            self.sandbox.add_fault("status", method="POST", path="/cases", status=500)
            failures = [self._raises(self._create, "RF-LOG-2")]
            failures.append(self._raises(DebituraClient("http://127.0.0.1:9", "k").me))
            echo = DebituraClient(
                self.sandbox.base_url, "wrong-" + self.sandbox_api_key
            )
            failures.append(self._raises(echo.me))
        output = "\n".join(logs.output)
        self.assertIn("POST /cases -> 200", output)
        self.assertIn("POST /cases -> 500", output)
        self.assertNotIn(self.sandbox_api_key, output)
        self.assertNotIn("Dupont", output)  # nor bodies
        for error in failures:
            self.assertNotIn(self.sandbox_api_key, f"{error} {error.message!r}")
        self.assertNotIn(self.sandbox_api_key, repr(self.client))

    # ------------------------------------------------------------------
    # the agency's moves read back as our states
    # ------------------------------------------------------------------
    def test_partner_moves_read_back_as_our_states(self):
        case_id = self._create()["id"]

        def state():
            return payloads.parse_case(self.client.get_case(case_id)).state

        self.assertEqual(state(), const.SUBMITTED)
        self.sandbox.request_details(case_id, message="Send the contract.")
        self.assertEqual(state(), const.NEEDS_DETAILS)
        self.sandbox.activate(case_id)
        self.assertEqual(state(), const.ACTIVE)
        self.sandbox.pause(case_id)
        self.assertEqual(state(), const.PAUSED)
        self.sandbox.resume(case_id)
        self.sandbox.close(case_id, "Pre-Legal Exhausted – No Payment")
        case = payloads.parse_case(self.client.get_case(case_id))
        self.assertEqual(case.state, const.CLOSED_UNCOLLECTABLE)
        self.assertEqual(case.close_code, "Pre-Legal Exhausted – No Payment")
        other_id = self._create("RF-TEST-2")["id"]
        self.sandbox.activate(other_id)
        self.sandbox.close(other_id, "WithdrawnByClient")
        case = payloads.parse_case(self.client.get_case(other_id))
        self.assertEqual(case.state, const.WITHDRAWN)
        self.assertIsNotNone(case.exclusive_period_end)
