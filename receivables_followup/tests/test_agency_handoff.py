"""The hand-off to a collection agency, in Odoo, against the Debitura sandbox on
loopback: eligibility, cases, the outbox and its failures, the status poll,
keeping the agency informed, and the secrets."""

import logging
from datetime import date, datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, new_test_user, tagged

from ..services import agency_poll, handoff
from ..services.debitura import payloads
from .common_agency import sandbox_testing
from .common_handoff import TEAM_MEMBER, HandoffCommon


@tagged("post_install", "-at_install")
class TestHandoffWizard(HandoffCommon):
    def test_eligibility_explains_every_invoice_left_out(self):
        customer = self.customer_fr
        eligible = self._overdue_invoice(customer, 1000.0, days_late=90)
        eligible_2 = self._overdue_invoice(customer, 500.0, days_late=45)
        recent = self._overdue_invoice(customer, 300.0, days_late=10)
        not_due = self._create_invoice(customer, 200.0, self.today + timedelta(days=5))
        disputed = self._overdue_invoice(customer, 400.0)
        self.env["followup.dispute"]._open_dispute(
            customer, {disputed: None}, "pricing"
        )
        promised = self._overdue_invoice(customer, 600.0)
        promised._followup_register_promise(self.today + timedelta(days=7))
        paid = self._overdue_invoice(customer, 100.0)
        self._register_payment(paid, 100.0)
        moves = eligible | eligible_2 | recent | not_due | disputed | promised | paid

        wizard = self._wizard(moves)

        self.assertEqual(len(wizard.case_ids), 1, "one case per debtor and currency")
        case = wizard.case_ids
        self.assertEqual(case.partner_id, customer)
        self.assertEqual(case.move_ids, eligible | eligible_2)
        self.assertAlmostEqual(case.amount, 1500.0)
        reasons = {r.move_id: r.reason for r in wizard.refusal_ids}
        self.assertEqual(
            reasons,
            {
                recent: "overdue for less than the company's minimum",
                not_due: "not overdue",
                disputed: "disputed by the customer",
                promised: "the customer promised to pay",
                paid: "nothing left to pay",
            },
        )

    def test_currency_and_minimum_of_the_agency(self):
        self.agency.write(
            {"currency_ids": [Command.set(self.eur.ids)], "minimum_claim": 250.0}
        )
        in_usd = self._overdue_invoice(self.customer_be, 5000.0, currency=self.usd)
        customer_de = self._create_customer("Berlin Bau GmbH", country="de")
        small = self._overdue_invoice(customer_de, 100.0)
        big = self._overdue_invoice(self.customer_fr, 900.0)
        no_state = self._overdue_invoice(self.customer_us, 900.0)

        wizard = self._wizard(in_usd | small | big | no_state)

        self.assertEqual(wizard.case_ids.move_ids, big)
        reasons = {r.move_id: r.reason for r in wizard.refusal_ids}
        self.assertEqual(reasons[in_usd], "currency not accepted by the agency")
        self.assertEqual(
            reasons[small], "the customer's claim is below the agency's minimum"
        )
        self.assertIn("no state in the US", reasons[no_state])

    def test_preview_shows_firm_and_fee_before_confirming(self):
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)

        wizard = self._wizard(invoice)

        case = wizard.case_ids
        self.assertTrue(case.previewed)
        self.assertTrue(case.eligible)
        self.assertTrue(case.assigned_firm)
        self.assertGreater(case.fee_rate, 0)
        self.assertAlmostEqual(case.fee_amount, round(1000.0 * case.fee_rate / 100, 2))
        previews = self.sandbox.request_log("POST", "/cases/preview")
        self.assertEqual(len(previews), 1)
        self.assertEqual(previews[-1]["body"]["claimLines"][0]["amount"], 1000.0)
        self.assertFalse(self.sandbox.cases(), "a preview creates nothing")

    def test_wizard_works_when_the_agency_cannot_be_reached(self):
        self.sandbox.add_fault("status", path="/cases/preview", count=5, status=503)
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)

        wizard = self._wizard(invoice)

        self.assertIn("could not be reached", wizard.preview_message)
        self.assertEqual(wizard.case_ids.move_ids, invoice)
        cases = self.env["followup.agency.case"].search(
            wizard.action_confirm()["domain"]
        )
        self.assertEqual(cases.state, "queued")

    def test_confirming_needs_a_manager(self):
        user = new_test_user(
            self.env,
            login="controller",
            groups="account.group_account_invoice,receivables_followup.group_followup_user",
            company_id=self.company.id,
        )
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        wizard = self._wizard(invoice, user=user)
        self.assertFalse(wizard.is_manager)
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertFalse(invoice.followup_at_agency)

    def test_invoice_at_an_agency_is_not_handed_twice(self):
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        self._hand_off(invoice)
        self.assertEqual(invoice.followup_status, "at_agency")
        with self.assertRaises(UserError):
            self._wizard(invoice).action_confirm()

    def test_from_the_review_queue_of_a_hand_off_level(self):
        self.env["followup.level"].create(
            {
                "policy_id": self.policy.id,
                "name": "Agency proposal",
                "delay": 90,
                "send_email": False,
                "propose_agency_handoff": True,
            }
        )
        old = self._create_invoice(self.customer_be, 900.0, "2025-01-01")
        old._followup_mark_performed(self.level_3, date(2025, 3, 2), {})
        self._run_followup("2025-04-12")
        history = self._history(self.customer_be)
        self.assertTrue(history.proposed_handoff)

        action = history.action_open_handoff_wizard()

        wizard = self.env["followup.handoff.wizard"].browse(action["res_id"])
        self.assertEqual(wizard.case_ids.move_ids, old)

    def test_invoices_due_the_same_day(self):
        first = self._overdue_invoice(self.customer_fr, 300.0, days_late=40)
        second = self._overdue_invoice(self.customer_fr, 200.0, days_late=40)
        wizard = self._wizard(first | second)
        self.assertEqual(wizard.case_ids.move_ids, first | second)
        self.assertTrue(wizard.case_ids.previewed)
        lines = self.sandbox.request_log("POST", "/cases/preview")[-1]["body"]
        self.assertEqual(len(lines["claimLines"]), 2)

    def test_rules_in_isolation(self):
        today = fields.Date.today()
        rules = handoff.Rules(today=today, min_days_overdue=30)
        candidate = handoff.Candidate(
            move_id=1,
            partner_id=7,
            currency="EUR",
            amount_residual=10.0,
            due_date=today - timedelta(days=30),
        )
        self.assertIsNone(handoff.refusal(candidate, rules))
        late_29 = handoff.Candidate(
            **{**candidate.__dict__, "due_date": today - timedelta(days=29)}
        )
        self.assertEqual(handoff.refusal(late_29, rules), handoff.TOO_RECENT)
        nowhere = handoff.Candidate(**{**candidate.__dict__, "debtor_reachable": False})
        self.assertEqual(handoff.refusal(nowhere, rules), handoff.NO_ADDRESS)


@tagged("post_install", "-at_install")
class TestHandoffEndToEnd(HandoffCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.module.module"]._load_module_terms(
            ["receivables_followup"], ["fr_FR"], overwrite=True
        )

    def test_hand_off_sends_exactly_the_claim(self):
        self.agency.send_documents = True
        first = self._overdue_invoice(self.customer_fr, 1200.0, days_late=120)
        second = self._overdue_invoice(self.customer_fr, 800.0, days_late=60)
        self._register_payment(second, 300.0)
        other = self._overdue_invoice(self.customer_be, 450.0)

        cases = self._hand_off(first | second | other, note="Called twice, no answer.")

        self.assertEqual(len(cases), 2)
        self.assertEqual(set(cases.mapped("state")), {"queued"})
        self.assertTrue(all(m.followup_at_agency for m in first | second | other))
        self.assertFalse(
            self.sandbox.cases(), "nothing is sent in the user's transaction"
        )

        self._send_outbox()

        case = cases.filtered(lambda c: c.partner_id == self.customer_fr)
        self.assertEqual(case.state, "submitted")
        self.assertTrue(case.agency_case_id)
        self.assertTrue(case.agency_reference)
        creates = [
            r
            for r in self.sandbox.request_log("POST", "/cases")
            if r["body"]["creditorReference"] == case.creditor_reference
        ]
        self.assertEqual(len(creates), 1)
        body = creates[-1]["body"]
        self.assertEqual(
            body["claimLines"],
            [
                {
                    "dueDate": str(first.invoice_date_due),
                    "amount": 1200.0,
                    "reference": first.name,
                },
                {
                    "dueDate": str(second.invoice_date_due),
                    "amount": 500.0,
                    "reference": second.name,
                },
            ],
        )
        self.assertNotIn("amountToRecover", body)
        self.assertEqual(body["currencyCode"], "EUR")
        self.assertTrue(body["isTest"])
        self.assertEqual(body["tag"], "rf-odoo-tests")
        self.assertEqual(body["debtor"]["name"], "Dupont SARL")
        self.assertEqual(body["debtor"]["countryAlpha2"], "FR")
        self.assertIn("Called twice, no answer.", body["comments"])
        self.assertAlmostEqual(case.amount_handed, 1700.0)
        # one PDF per invoice, attached to the right case
        files = [
            f for f in self.sandbox.files() if f.get("caseId") == case.agency_case_id
        ]
        self.assertEqual(len(files), 2, files)
        self.assertTrue(all(f["fileName"].endswith(".pdf") for f in files))
        self.assertTrue(all(f["contentType"] == "application/pdf" for f in files))
        self.assertTrue(all(case.line_ids.mapped("document_sent")))
        self.assertFalse(case.request_ids.filtered(lambda r: r.state != "done"))

    def test_transfer_notice_in_the_customers_language(self):
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        case = self._hand_off(invoice, send_transfer_notice=True)
        message = case.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(message), 1)
        self.assertIn(self.customer_fr, message.partner_ids)
        self.assertIn("agence de recouvrement", message.subject)
        self.assertIn(invoice.name, message.body)
        self.assertIn("Bonjour Dupont SARL", message.body)
        self.assertIn("1&nbsp;000,00&nbsp;€", message.body)
        self.assertIn(invoice.invoice_date_due.strftime("%d/%m/%Y"), message.body)

    def test_transfer_notice_in_english_with_the_invoices_currency(self):
        invoice = self._overdue_invoice(self.customer_be, 1000.0, currency=self.usd)
        case = self._hand_off(invoice, send_transfer_notice=True)
        message = case.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertIn("handed to a collection agency", message.subject)
        self.assertIn("Dear Brussels Trading", message.body)
        self.assertIn("$&nbsp;1,000.00", message.body)
        self.assertNotIn("€", message.body)

    def test_no_transfer_notice_when_unticked(self):
        invoice = self._overdue_invoice(self.customer_be, 1000.0)
        case = self._hand_off(invoice, send_transfer_notice=False)
        self.assertFalse(
            case.message_ids.filtered(lambda m: m.message_type == "comment")
        )

    def test_response_lost_after_creation_gives_one_case(self):
        self.sandbox.add_fault("lost_response", method="POST", path="/cases")
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        case = self._hand_off(invoice)

        self.Request.sudo()._cron_send_requests()
        request = case.request_ids
        self.assertEqual(request.state, "retry")
        self.assertEqual(request.error_kind, "transient")

        self._send_outbox()

        self.assertEqual(request.state, "done")
        self.assertEqual(len(self.sandbox.cases()), 1)
        self.assertEqual(case.agency_case_id, self.sandbox.cases()[0]["id"])
        keys = {
            r["headers"].get("Idempotency-Key")
            for r in self.sandbox.request_log("POST", "/cases")
        }
        self.assertEqual(keys, {request.idempotency_key}, "retried with the same key")

    def test_case_found_by_reference_when_the_key_expired(self):
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        case = self._hand_off(invoice)
        request = case.request_ids
        # the agency created it, and its idempotency record is gone
        self.sandbox.create_case(
            payloads.case_body(case._agency_claim()), idempotency_key="another-key"
        )

        self._send_outbox()

        self.assertEqual(request.state, "done")
        self.assertEqual(len(self.sandbox.cases()), 1)
        self.assertEqual(case.agency_case_id, self.sandbox.cases()[0]["id"])


@tagged("post_install", "-at_install")
class TestOutboxFailures(HandoffCommon):
    def _queued_case(self, partner=None):
        invoice = self._overdue_invoice(partner or self.customer_fr, 1000.0)
        return self._hand_off(invoice, send_transfer_notice=False)

    def test_rate_limit_is_retried_after_the_agencys_delay(self):
        self.sandbox.add_fault(
            "rate_limit", method="POST", path="/cases", retryAfter=120
        )
        case = self._queued_case()
        before = fields.Datetime.now()
        self.Request.sudo()._cron_send_requests()
        request = case.request_ids
        self.assertEqual(request.state, "retry")
        self.assertEqual(request.error_kind, "rate_limited")
        self.assertGreaterEqual(request.next_attempt, before + timedelta(seconds=119))
        self._send_outbox()
        self.assertEqual(request.state, "done")
        self.assertEqual(request.attempts, 2)

    def test_server_errors_and_timeouts_back_off_then_succeed(self):
        self.sandbox.add_fault("status", method="POST", path="/cases", status=502)
        self.sandbox.add_fault("timeout", method="POST", path="/cases", seconds=4)
        case = self._queued_case()
        request = case.request_ids
        delays = []
        for _attempt in range(2):
            now = fields.Datetime.now()
            self.Request.sudo()._cron_send_requests()
            self.assertEqual(request.state, "retry", request.last_error)
            delays.append((request.next_attempt - now).total_seconds())
            request.sudo().next_attempt = fields.Datetime.now() - timedelta(seconds=1)
        self.assertTrue(all(0 <= d <= 3600 for d in delays), delays)
        self._send_outbox()
        self.assertEqual(request.state, "done")
        self.assertEqual(request.attempts, 3)
        self.assertEqual(len(self.sandbox.cases()), 1)

    def test_a_retry_wakes_the_outbox_at_its_time(self):
        """The retry's delay grows from the system parameter's base, and the
        scheduled action is triggered for it: a retry does not wait for the
        action's next interval."""
        self.env["ir.config_parameter"].sudo().set_param(
            "receivables_followup.agency_retry_base", "4"
        )
        self.sandbox.add_fault("status", method="POST", path="/cases", status=503)
        case = self._queued_case()
        before = fields.Datetime.now()
        self.Request.sudo()._cron_send_requests()
        request = case.request_ids
        self.assertEqual(request.state, "retry")
        self.assertLessEqual(request.next_attempt, before + timedelta(seconds=5))
        cron = self.env.ref("receivables_followup.ir_cron_agency_outbox")
        self.assertTrue(
            self.env["ir.cron.trigger"].search(
                [("cron_id", "=", cron.id), ("call_at", "=", request.next_attempt)]
            )
        )

    def test_gives_up_after_the_attempts(self):
        self.agency.failure_threshold = 0
        self.sandbox.add_fault(
            "status", method="POST", path="/cases", status=503, count=10
        )
        case = self._queued_case()
        self._send_outbox()
        request = case.request_ids
        self.assertEqual(request.state, "failed")
        self.assertEqual(request.attempts, self.agency.max_attempts)
        self.assertTrue(case.activity_ids, "the responsible is told")

    def test_business_error_is_shown_and_not_retried(self):
        self.sandbox.settings(covered_countries=["DK"])
        case = self._queued_case()
        self._send_outbox()
        request = case.request_ids
        self.assertEqual(request.state, "failed")
        self.assertEqual(request.error_kind, "business")
        self.assertEqual(request.error_status, 422)
        self.assertTrue(request.last_error)
        self.assertEqual(request.attempts, 1)
        self.assertEqual(len(self.sandbox.request_log("POST", "/cases")), 1)
        self.assertTrue(case.request_failed_count)

    def test_idempotency_conflict_stops_as_a_bug(self):
        case = self._queued_case()
        request = case.request_ids
        # another body was sent under the same key before
        self.sandbox.create_case(
            sandbox_testing().sample_case_body(),
            idempotency_key=request.idempotency_key,
        )
        self._send_outbox()
        self.assertEqual(request.state, "failed")
        self.assertEqual(request.error_kind, "conflict")
        self.assertIn("bug", request.last_error)
        with self.assertRaises(UserError):
            request.action_retry()

    def test_a_failing_agency_is_paused(self):
        self.sandbox.add_fault("status", status=503, count=20)
        customer_de = self._create_customer("Berlin Bau GmbH", country="de")
        for partner in (self.customer_fr, self.customer_be, customer_de):
            self._queued_case(partner)
        self.Request.sudo()._cron_send_requests()
        self.assertTrue(self.agency.paused)
        self.assertEqual(self.agency.consecutive_failures, 3)
        self.assertTrue(self.agency.activity_ids)
        calls = len(self.sandbox.request_log("POST", "/cases"))
        self._send_outbox()
        self.assertEqual(
            len(self.sandbox.request_log("POST", "/cases")),
            calls,
            "a paused agency is left alone",
        )
        self.sandbox.clear_faults()
        self.agency.action_resume()
        self._send_outbox()
        self.assertEqual(len(self.sandbox.cases()), 3)

    def test_refused_key_pauses_without_losing_the_request(self):
        self.agency.sudo().api_key = "wrong-key"
        case = self._queued_case()
        self.Request.sudo()._cron_send_requests()
        self.assertTrue(self.agency.paused)
        self.assertEqual(case.request_ids.state, "retry")
        self.agency.sudo().api_key = self.sandbox_api_key
        self.agency.action_resume()
        self._send_outbox()
        self.assertEqual(case.request_ids.state, "done")


@tagged("post_install", "-at_install")
class TestAgencyPollCursor(BaseCase):
    """Where the next status poll resumes, without the ORM."""

    def test_cursor_is_the_newest_change_read(self):
        older, newer = datetime(2026, 3, 1, 9), datetime(2026, 3, 2, 9)
        cursor = agency_poll.next_cursor([older, None, newer], [])
        self.assertEqual(cursor, newer)

    def test_cursor_stays_just_before_the_oldest_change_held(self):
        first, held, last = (datetime(2026, 3, day, 9) for day in (1, 2, 3))
        cursor = agency_poll.next_cursor([first, held, last], [last, held])
        self.assertEqual(cursor, held - timedelta(microseconds=1))

    def test_a_held_change_without_a_time_reads_everything_again(self):
        stamp = datetime(2026, 3, 1, 9)
        self.assertIsNone(agency_poll.next_cursor([stamp, None], [None]))

    def test_no_time_read_leaves_no_cursor(self):
        self.assertIsNone(agency_poll.next_cursor([None, None], []))


@tagged("post_install", "-at_install")
class TestAgencySync(HandoffCommon):
    def _submitted_case(self, partner=None, amount=1000.0):
        invoice = self._overdue_invoice(partner or self.customer_fr, amount)
        case = self._hand_off(invoice, send_transfer_notice=False)
        self._send_outbox()
        self.assertEqual(case.state, "submitted")
        return case, invoice

    def test_status_poll_applies_the_agencys_changes(self):
        case, _invoice = self._submitted_case()
        self.sandbox.activate(case.agency_case_id)
        self.sandbox.register_payment(case.agency_case_id, 400.0)

        self.env["followup.agency"]._cron_poll_agencies()

        self.assertEqual(case.state, "active")
        self.assertAlmostEqual(case.amount_collected, 400.0)
        self.assertTrue(case.exclusive_period_end)
        self.assertTrue(self.agency.poll_cursor)

    def test_poll_applies_the_other_cases_when_the_agency_fails_on_one(self):
        """A 5xx on one case's payments holds that case for the next poll and
        the cursor before its change; the other cases are applied (with 20 %
        of the calls failing, a poll of many cases never got through)."""
        failing, _invoice = self._submitted_case()
        other, _invoice = self._submitted_case(self.customer_be)
        self.sandbox.activate(failing.agency_case_id)
        self.sandbox.activate(other.agency_case_id)
        self.sandbox.add_fault(
            "status",
            method="GET",
            path=f"/cases/{failing.agency_case_id}/payments",
            status=503,
        )
        self.env["followup.agency"]._cron_poll_agencies()
        self.assertEqual(other.state, "active")
        self.assertEqual(failing.state, "submitted")
        changed = payloads.naive_utc(
            payloads.parse_case(self.sandbox.case(failing.agency_case_id)).updated_at
        )
        self.assertLess(self.agency.poll_cursor, changed)
        self.env["followup.agency"]._cron_poll_agencies()
        self.assertEqual(failing.state, "active")

    def test_an_older_change_never_moves_a_case_back(self):
        case, _invoice = self._submitted_case()
        submitted = self.sandbox.case(case.agency_case_id)
        self.sandbox.activate(case.agency_case_id)
        self.env["followup.agency"]._cron_poll_agencies()
        self.assertEqual(case.state, "active")
        stale = payloads.parse_case(
            {
                **submitted,
                "lifecycle": "Pending Verification",
                "dateUpdated": "2020-01-01T00:00:00Z",
            }
        )
        self.env["followup.agency.case"]._apply_agency_changes(self.agency, [stale])
        self.assertEqual(case.state, "active")

    def test_needs_details_says_what_is_missing(self):
        case, _invoice = self._submitted_case()
        self.sandbox.request_details(
            case.agency_case_id,
            "We need more on the debtor.",
            items=[{"resolutionArea": "Debtor", "description": "a phone number"}],
        )
        self.env["followup.agency"]._cron_poll_agencies()
        self.assertEqual(case.state, "needs_details")
        activity = case.activity_ids.filtered(lambda a: "more details" in a.summary)
        self.assertEqual(len(activity), 1)
        self.assertIn("a phone number", str(activity.note))

    def test_withdrawn_case_gives_the_invoices_back(self):
        case, invoice = self._submitted_case()
        self.sandbox.close(case.agency_case_id, "WithdrawnByClient")
        self.env["followup.agency"]._cron_poll_agencies()
        self.assertEqual(case.state, "withdrawn")
        self.assertFalse(invoice.followup_at_agency)
        self.assertEqual(invoice.followup_resume_date, self.today)
        self.assertNotEqual(invoice.followup_status, "at_agency")

    def test_uncollectable_case_proposes_a_write_off(self):
        case, invoice = self._submitted_case()
        self.sandbox.activate(case.agency_case_id)
        self.sandbox.close(case.agency_case_id, "DebtorInsolvent")
        self.env["followup.agency"]._cron_poll_agencies()
        self.assertEqual(case.state, "closed_uncollectable")
        self.assertFalse(invoice.followup_at_agency)
        self.assertEqual(invoice.payment_state, "not_paid", "nothing written off")
        self.assertEqual(invoice.followup_resume_date, self.today)
        activity = case.activity_ids.filtered(lambda a: "Write off" in a.summary)
        self.assertEqual(activity.user_id, self.agency.responsible_id)

    def test_case_closed_as_disputed_opens_a_dispute(self):
        case, invoice = self._submitted_case()
        self.sandbox.activate(case.agency_case_id)
        self.sandbox.close(case.agency_case_id, "DisputedLegalActionDeclined")
        self.env["followup.agency"]._cron_poll_agencies()
        dispute = invoice.followup_dispute_line_ids.dispute_id
        self.assertEqual(dispute.origin, "agency")
        self.assertEqual(invoice.followup_status, "paused_dispute")
        self.assertFalse(case.activity_ids.filtered(lambda a: "Write off" in a.summary))

    def test_direct_payment_and_dispute_are_told_to_the_agency(self):
        case, invoice = self._submitted_case()
        self._register_payment(invoice, 250.0)
        self.env["followup.agency.case"]._cron_inform_agencies()
        self._send_outbox()
        chats = self.sandbox.case(case.agency_case_id)["chats"]
        self.assertEqual(len(chats), 1)
        self.assertIn(invoice.name, chats[0]["message"])
        self.assertIn("paid to us directly", chats[0]["message"])
        self.assertTrue(case.activity_ids)
        # told once
        self.env["followup.agency.case"]._cron_inform_agencies()
        self._send_outbox()
        self.assertEqual(len(self.sandbox.case(case.agency_case_id)["chats"]), 1)
        self.env["followup.dispute"]._open_dispute(
            self.customer_fr, {invoice: None}, "pricing"
        )
        self.env["followup.agency.case"]._cron_inform_agencies()
        self._send_outbox()
        chats = self.sandbox.case(case.agency_case_id)["chats"]
        self.assertEqual(len(chats), 2)
        self.assertIn("disputed", chats[1]["message"])

    def test_withdrawal_request(self):
        case, _invoice = self._submitted_case()
        case.action_request_withdrawal()
        self.assertTrue(case.withdrawal_requested)
        self._send_outbox()
        chats = self.sandbox.case(case.agency_case_id)["chats"]
        self.assertIn("withdraw", chats[-1]["message"])
        self.assertEqual(chats[-1]["user"]["email"], TEAM_MEMBER)

    def test_cases_change_only_through_their_workflow(self):
        case, _invoice = self._submitted_case()
        user = new_test_user(
            self.env,
            login="controller2",
            groups="account.group_account_invoice,receivables_followup.group_followup_user",
            company_id=self.company.id,
        )
        with self.assertRaises(AccessError):
            case.with_user(user).write({"state": "closed_paid"})
        case.with_user(user).write({"note": "Called on Monday."})


@tagged("post_install", "-at_install")
class TestAgencySecrets(HandoffCommon):
    def test_plain_user_cannot_read_the_secrets(self):
        user = new_test_user(
            self.env,
            login="plainuser",
            groups="account.group_account_invoice,receivables_followup.group_followup_user",
            company_id=self.company.id,
        )
        agency = self.agency.with_user(user)
        self.assertEqual(agency.name, "Debitura Sandbox")
        for field in ("api_key", "webhook_secret", "base_url"):
            with self.assertRaises(AccessError):
                agency.read([field])
        fields_info = agency.fields_get()
        self.assertNotIn("api_key", fields_info)
        arch = agency.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("api_key", arch)
        self.assertNotIn("webhook_secret", arch)

    def test_secrets_absent_from_logs_and_errors(self):
        self.sandbox.add_fault("status", method="POST", path="/cases", status=500)
        invoice = self._overdue_invoice(self.customer_fr, 1000.0)
        with self.assertLogs(
            "odoo.addons.receivables_followup", level=logging.DEBUG
        ) as logs:
            case = self._hand_off(invoice)
            self._send_outbox()
            self.agency.action_test_connection()
        text = "\n".join(logs.output)
        self.assertTrue(text)
        for secret in (self.sandbox_api_key, "whsec-test-secret"):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret, case.request_ids.mapped("last_error").__str__())
            self.assertNotIn(secret, str(case.message_ids.mapped("body")))

    def test_test_connection_names_the_account(self):
        action = self.agency.action_test_connection()
        self.assertIn("Sandbox Creditor ApS", action["params"]["message"])
        self.assertEqual(self.agency.connection_state, "ok")
        self.agency.sudo().api_key = "nope"
        with self.assertRaises(UserError):
            self.agency.action_test_connection()
