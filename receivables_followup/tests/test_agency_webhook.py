"""Agency callbacks over real HTTP: the signature scheme, every refusal with
nothing changed, the inbox (duplicates, order, unknown cases, retries) and the
sandbox's own signed webhooks driving a case."""

import base64
import importlib
import json
import logging
import time
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..models.followup_agency_event import MAX_ATTEMPTS
from ..services.agency_errors import WebhookRefused
from ..services.debitura import webhooks
from .common_agency import sandbox_testing
from .common_handoff import HandoffCommon

SECRET = base64.b64encode(b"current-secret-0123456789abcdef").decode()
PREVIOUS = base64.b64encode(b"previous-secret-0123456789abcde").decode()
FOREIGN = base64.b64encode(b"somebody-else-0123456789abcdef0").decode()


@tagged("post_install", "-at_install")
class TestAgencyWebhook(HandoffCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agency.sudo().write(
            {"webhook_secret": SECRET, "webhook_secret_previous": PREVIOUS}
        )
        # the sandbox signs as Debitura does, with code of its own: the tests
        # do not check the addon's verification against itself
        sandbox_testing()
        cls.signatures = importlib.import_module("agency_sandbox.signatures")

    def setUp(self):
        super().setUp()
        self.Event = self.env["followup.agency.event"].sudo()
        self.url = f"/receivables_followup/agency/{self.agency.id}/webhook"

    # ------------------------------------------------------------------
    def _event(self, event_type="case.updated", case=None, **data):
        body = {
            "id": str(uuid.uuid4()),
            "specVersion": "1.0",
            "event": event_type,
            "timestamp": "2026-12-05T10:00:00Z",
            "classification": "test",
            "data": {
                "caseId": case.agency_case_id if case else str(uuid.uuid4()),
                "creditorReference": case.creditor_reference if case else None,
                **data,
            },
        }
        return json.dumps(body).encode()

    def _post(
        self,
        raw,
        secrets_=(SECRET,),
        stamp=None,
        event_type=None,
        url=None,
        headers=None,
    ):
        sent = {"Content-Type": "application/json"}
        if secrets_ is not None:
            sent["X-Debitura-Signature"] = self.signatures.signature_header(
                list(secrets_), raw, timestamp=stamp
            )
        if event_type:
            sent["X-Debitura-Event"] = event_type
        sent.update(headers or {})
        return self.url_open(url or self.url, data=raw, headers=sent)

    def _assert_refused(self, response, status):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/problem+json")
        problem = response.json()
        self.assertEqual(problem["status"], status)
        self.assertTrue(problem["title"])
        self.assertTrue(problem["detail"])
        self.assertFalse(self.Event.search_count([]), "nothing stored")

    def _submitted_case(self):
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        case = self._hand_off(invoice, send_transfer_notice=False)
        self._send_outbox()
        return case

    # ------------------------------------------------------------------
    # the signature scheme
    # ------------------------------------------------------------------
    def test_valid_signature_is_stored_once(self):
        raw = self._event()
        first = self._post(raw)
        self.assertEqual(first.status_code, 200, first.text)
        self.assertEqual(first.json()["status"], "accepted")
        again = self._post(raw)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["status"], "duplicate")
        events = self.Event.search([])
        self.assertEqual(len(events), 1)
        self.assertEqual(events.payload, raw.decode())
        self.assertEqual(events.event_type, "case.updated")
        self.assertEqual(events.state, "received")
        self.assertEqual(events.source_address, "127.0.0.1")
        # one wake-up of the processing for any number of events waiting
        self._post(self._event())
        cron = self.env.ref("receivables_followup.ir_cron_agency_events")
        triggers = (
            self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)])
        )
        self.assertEqual(len(triggers), 1)

    def test_rotated_secrets_are_both_accepted(self):
        self.assertEqual(
            self._post(self._event(), secrets_=(PREVIOUS,)).status_code, 200
        )
        self.assertEqual(
            self._post(self._event(), secrets_=(FOREIGN, SECRET)).status_code, 200
        )
        self.assertEqual(self.Event.search_count([]), 2)

    def test_wrong_secret_is_refused(self):
        self._assert_refused(self._post(self._event(), secrets_=(FOREIGN,)), 401)

    def test_stale_and_future_timestamps_are_refused(self):
        now = int(time.time())
        # a margin for a loaded machine; the exact bounds: test_tolerance_bounds
        self._assert_refused(self._post(self._event(), stamp=now - 360), 401)
        self._assert_refused(self._post(self._event(), stamp=now + 360), 401)
        self.assertEqual(self._post(self._event(), stamp=now - 200).status_code, 200)

    def test_tolerance_bounds(self):
        raw = b'{"id": "e"}'
        for distance, accepted in (
            (300, True),
            (-300, True),
            (301, False),
            (-301, False),
        ):
            header = self.signatures.signature_header(
                [SECRET], raw, timestamp=1_000_000
            )
            with self.subTest(distance=distance):
                if accepted:
                    webhooks.verify(header, raw, [SECRET], now=1_000_000 + distance)
                else:
                    with self.assertRaises(WebhookRefused):
                        webhooks.verify(header, raw, [SECRET], now=1_000_000 + distance)

    def test_tampered_body_resigned_with_another_secret(self):
        raw = self._event()
        header = self.signatures.signature_header([SECRET], raw)
        tampered = raw.replace(b"case.updated", b"case.closed")
        response = self.url_open(
            self.url,
            data=tampered,
            headers={
                "X-Debitura-Signature": header,
                "Content-Type": "application/json",
            },
        )
        self._assert_refused(response, 401)
        self._assert_refused(self._post(tampered, secrets_=(FOREIGN,)), 401)

    def test_missing_headers_are_refused(self):
        self._assert_refused(self._post(self._event(), secrets_=None), 401)
        self._assert_refused(
            self._post(
                self._event(), secrets_=None, headers={"X-Debitura-Signature": "t=,v1="}
            ),
            401,
        )

    # ------------------------------------------------------------------
    # every other refusal, nothing changed
    # ------------------------------------------------------------------
    def test_unknown_agency(self):
        self._assert_refused(
            self._post(
                self._event(), url="/receivables_followup/agency/999999/webhook"
            ),
            404,
        )

    def test_malformed_json(self):
        self._assert_refused(self._post(b"{not json"), 400)

    def test_oversized_body(self):
        self._assert_refused(self._post(b"{" + b" " * 70000 + b"}"), 413)

    def test_event_that_does_not_fit(self):
        unknown = json.dumps(
            {"id": "e-1", "event": "case.exploded", "data": {"caseId": "x"}}
        )
        self._assert_refused(self._post(unknown.encode()), 422)
        no_data = json.dumps({"id": "e-2", "event": "case.updated"})
        self._assert_refused(self._post(no_data.encode()), 422)
        no_case = json.dumps({"id": "e-3", "event": "case.updated", "data": {}})
        self._assert_refused(self._post(no_case.encode()), 422)

    def test_refusals_log_neither_secrets_nor_body(self):
        raw = self._event(debtorName="Very Private Debtor")
        with self.assertLogs(
            "odoo.addons.receivables_followup", level=logging.INFO
        ) as logs:
            self._post(raw, secrets_=(FOREIGN,))
        text = "\n".join(logs.output)
        self.assertIn("401", text)
        for secret in (SECRET, PREVIOUS, FOREIGN, "Very Private Debtor"):
            self.assertNotIn(secret, text)

    # ------------------------------------------------------------------
    # processing
    # ------------------------------------------------------------------
    def test_event_reads_the_case_back_and_applies_it(self):
        case = self._submitted_case()
        self.sandbox.activate(case.agency_case_id)
        self._post(self._event("case.updated", case))
        self.Event._cron_process_events()
        event = self.Event.search([])
        self.assertEqual(event.state, "done")
        self.assertEqual(event.case_id, case)
        self.assertEqual(case.state, "active")

    def test_events_out_of_order_never_move_a_case_back(self):
        case = self._submitted_case()
        self.sandbox.activate(case.agency_case_id)
        updated = self._event("case.updated", case)
        self.sandbox.close(case.agency_case_id, "PreLegalExhaustedNoPayment")
        closed = self._event("case.closed", case)
        # the closing arrives first, the older update after it
        self._post(closed)
        self.Event._cron_process_events()
        self._post(updated)
        self.Event._cron_process_events()
        self.assertEqual(case.state, "closed_uncollectable")

    def test_event_for_an_unknown_case_is_stored_and_reported(self):
        self._post(self._event("case.updated"))
        self.Event._cron_process_events()
        event = self.Event.search([])
        self.assertEqual(event.state, "unknown_case")
        self.assertTrue(event.error)

    def test_failed_processing_is_kept_and_retried(self):
        case = self._submitted_case()
        self.sandbox.activate(case.agency_case_id)
        self.sandbox.add_fault(
            "status", method="GET", path=f"/cases/{case.agency_case_id}", status=503
        )
        self._post(self._event("case.updated", case))
        self.Event._cron_process_events()
        event = self.Event.search([])
        self.assertEqual(event.state, "failed")
        self.assertIn("503", event.error)
        self.assertEqual(case.state, "submitted")
        # the scheduled action tries it again once its time has come
        self.assertTrue(event.next_attempt)
        self.Event._cron_process_events()
        self.assertEqual(event.attempts, 1)
        event.sudo().next_attempt = fields.Datetime.now() - timedelta(seconds=1)
        self.Event._cron_process_events()
        self.assertEqual(event.state, "done")
        self.assertFalse(event.next_attempt)
        self.assertEqual(case.state, "active")

    def test_agency_failures_never_exhaust_an_event(self):
        """An event the agency cannot answer for (5xx, 429, time-outs) is tried
        again past the attempts a broken event gets, each time at its own
        delay, with the scheduled action woken then: once the agency answers,
        the event is applied (a soak with 20 % faults left some failed)."""
        case = self._submitted_case()
        self.sandbox.activate(case.agency_case_id)
        path = f"/cases/{case.agency_case_id}"
        failures = MAX_ATTEMPTS + 2
        self.sandbox.add_fault(
            "status", method="GET", path=path, status=503, count=failures
        )
        self._post(self._event("case.updated", case))
        cron = self.env.ref("receivables_followup.ir_cron_agency_events")
        event = self.Event.search([])
        for attempt in range(1, failures + 1):
            self.Event._cron_process_events()
            self.assertEqual((event.state, event.attempts), ("failed", attempt))
            self.assertTrue(event.next_attempt)
            self.assertTrue(
                self.env["ir.cron.trigger"].search(
                    [("cron_id", "=", cron.id), ("call_at", "=", event.next_attempt)]
                )
            )
            event.sudo().next_attempt = fields.Datetime.now() - timedelta(seconds=1)
        self.Event._cron_process_events()
        self.assertEqual(event.state, "done")
        self.assertEqual(case.state, "active")

    def test_retry_button_for_managers(self):
        case = self._submitted_case()
        self.sandbox.add_fault(
            "status", method="GET", path=f"/cases/{case.agency_case_id}", status=500
        )
        self._post(self._event("case.updated", case))
        self.Event._cron_process_events()
        event = self.Event.search([])
        self.assertEqual(event.state, "failed")
        event.with_env(self.env).action_retry()
        self.assertEqual(event.state, "done")

    def test_chat_message_reaches_the_responsible(self):
        case = self._submitted_case()
        chat = self.sandbox.partner_message(
            case.agency_case_id, "Debtor asks for a payment plan."
        )
        raw = self._event(
            "chat.created",
            case,
            chatId=chat["id"],
            role=0,
            roleLabel="Partner",
            message="Debtor asks for a payment plan.",
        )
        self._post(raw)
        self.Event._cron_process_events()
        message = case.message_ids.filtered(lambda m: "payment plan" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn(case.user_id.partner_id, message.partner_ids)

    # ------------------------------------------------------------------
    # the sandbox's own signed webhooks
    # ------------------------------------------------------------------
    def test_from_hand_off_to_closed_paid_by_signed_webhooks(self):
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        case = self._hand_off(invoice, send_transfer_notice=False)
        self._send_outbox()
        subscription = self.sandbox.subscribe_webhook(
            f"{self.base_url()}{self.url}", test_mode=True
        )
        self.agency.sudo().webhook_secret = subscription["secret"]
        self.env.flush_all()
        self.sandbox.activate(case.agency_case_id)
        self.sandbox.register_payment(
            case.agency_case_id, 1000.0, recipient="CollectionPartner"
        )
        self.sandbox.close(case.agency_case_id, "Paid")
        self.sandbox.wait_for_webhooks()
        types = set(self.Event.search([]).mapped("event_type"))
        self.assertTrue(
            {"case.updated", "payment.created", "case.closed"} <= types, types
        )

        self.Event._cron_process_events()

        self.assertEqual(set(self.Event.search([]).mapped("state")), {"done"})
        self.assertEqual(case.state, "closed_paid")
        payment = case.agency_payment_ids
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.state, "booked")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(invoice.followup_at_agency)
        fee = round(1000.0 * case.success_fee_rate / 100, 2)
        clearing = self.env["account.move.line"].search(
            [("account_id", "=", self.clearing.id), ("parent_state", "=", "posted")]
        )
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 1000.0 - fee)
        # every event delivered again: nothing changes
        moves_before = self.env["account.move"].search_count([])
        for event in self.Event.search([]):
            response = self._post(
                event.payload.encode(), secrets_=(subscription["secret"],)
            )
            self.assertEqual(response.json()["status"], "duplicate")
        self.Event._cron_process_events()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(len(case.agency_payment_ids), 1)

    def test_sandbox_webhooks_drive_the_case(self):
        case = self._submitted_case()
        # subscribed once the case exists: the test's cursor must not be in use
        # by the test while the sandbox delivers (Odoo's HTTP test server shares it)
        subscription = self.sandbox.subscribe_webhook(
            f"{self.base_url()}{self.url}", test_mode=True
        )
        self.agency.sudo().webhook_secret = subscription["secret"]
        self.env.flush_all()
        self.sandbox.activate(case.agency_case_id)
        self.sandbox.wait_for_webhooks()
        self.Event._cron_process_events()
        self.assertEqual(case.state, "active")
        received = self.Event.search([("case_id", "=", case.id)])
        self.assertTrue(received)
        self.assertEqual(set(received.mapped("state")), {"done"})
