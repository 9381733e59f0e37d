"""After the hand-off, the scheduled actions that talk to the Debitura sandbox
on loopback: the outbox when the agency fails (retries, backoff, pausing), and
the status poll that reads the agency's changes back, keeping it informed of
payments and disputes received directly."""

from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, new_test_user, tagged

from ..services import agency_poll
from ..services.debitura import payloads
from .common_agency import sandbox_testing
from .common_handoff import TEAM_MEMBER, HandoffCommon


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
