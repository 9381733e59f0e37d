from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import FollowupCommon


class FollowupRunCase(FollowupCommon):
    def _history_class(self):
        return type(self.env["followup.history"])


@tagged("post_install", "-at_install")
class TestFollowupGrouping(FollowupRunCase):
    """One reminder per customer and level, listing all its overdue invoices."""

    def test_one_email_per_partner_lists_all_its_invoices(self):
        first = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        second = self._create_invoice(self.customer_be, 250.0, "2025-01-05")
        self._run_followup("2025-01-20")
        emails = self._emails_to(self.customer_be)
        self.assertEqual(len(emails), 1)
        self.assertIn(first.name, emails.body_html)
        self.assertIn(second.name, emails.body_html)
        history = self._history(self.customer_be)
        self.assertEqual(history.move_ids, first | second)
        self.assertAlmostEqual(history.amount_claimed, 1250.0)

    def test_each_partner_gets_its_own_email(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_invoice(self.customer_us, 300.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self.assertEqual(len(self._emails_to(self.customer_be)), 1)
        self.assertEqual(len(self._emails_to(self.customer_us)), 1)

    def test_email_is_queued_not_sent(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self.assertEqual(self._emails_to(self.customer_be).state, "outgoing")

    def test_email_lists_days_overdue_and_payment_reference(self):
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        body = self._emails_to(self.customer_be).body_html
        self.assertIn(invoice.payment_reference or invoice.name, body)
        self.assertIn(">10<", body.replace(" ", ""))

    def test_partner_and_invoice_chatter_show_the_reminder(self):
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        history = self._history(self.customer_be)
        self.assertTrue(history.sent_email)
        self.assertIn(history.mail_message_id, self.customer_be.message_ids)
        notes = invoice.message_ids.filtered(lambda m: "Reminder" in (m.body or ""))
        self.assertEqual(len(notes), 1)

    def test_run_reports_its_progress(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_invoice(self.customer_us, 300.0, "2025-01-01")
        reports = self._run_followup("2025-01-11", batch_size=1)
        # the company's slice planned first (2 customers; the other company's
        # run, still to plan, counts as one unit left), then one action per
        # call, the other company's empty plan taking no call of its own
        self.assertEqual(reports, [(2, 3), (1, 1), (1, 0)])
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        self.assertEqual((run.state, run.planned_count, run.done_count), ("done", 2, 2))

    def test_invoice_paid_after_planning_is_not_reminded(self):
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        Run = self._cron_env()["followup.run"]
        with freeze_time("2025-01-11"):
            Run._cron_run_followup()  # plans only
        self._register_payment(invoice, 1000.0, "2025-01-11")
        self._run_followup("2025-01-11")
        self.assertEqual(self._history(self.customer_be).state, "skipped")
        self.assertFalse(self._emails_to(self.customer_be))


@tagged("post_install", "-at_install")
class TestFollowupNetting(FollowupRunCase):
    """The customer's net position: credits reduce what is claimed."""

    def test_credit_note_reduces_the_claim(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_credit_note(self.customer_be, 300.0)
        self._run_followup("2025-01-11")
        history = self._history(self.customer_be)
        self.assertAlmostEqual(history.amount_claimed, 700.0)
        self.assertAlmostEqual(history.credit_amount, 300.0)
        self.assertIn("700.00", self._emails_to(self.customer_be).body_html)

    def test_unreconciled_payment_reduces_the_claim(self):
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_unreconciled_payment(self.customer_be, 400.0)
        self._run_followup("2025-01-11")
        self.assertAlmostEqual(self._history(self.customer_be).amount_claimed, 600.0)

    def test_partner_covered_by_credits_gets_nothing(self):
        self._create_invoice(self.customer_be, 500.0, "2025-01-01")
        self._create_credit_note(self.customer_be, 600.0)
        self._run_followup("2025-01-11")
        self.assertFalse(self._history(self.customer_be))
        self.assertFalse(self._emails_to(self.customer_be))
        run = self.env["followup.run"].search([("company_id", "=", self.company.id)])
        self.assertEqual(run.covered_partner_count, 1)

    def test_credits_of_another_customer_do_not_count(self):
        self._create_invoice(self.customer_be, 500.0, "2025-01-01")
        self._create_credit_note(self.customer_us, 600.0)
        self._run_followup("2025-01-11")
        self.assertAlmostEqual(self._history(self.customer_be).amount_claimed, 500.0)


@tagged("post_install", "-at_install")
class TestFollowupPauses(FollowupRunCase):
    """Excluded, paused and handed-off invoices never escalate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")

    def test_excluded_invoice_does_not_escalate(self):
        # as the exclusion wizard writes it
        self.invoice.sudo().write(
            {"followup_excluded": True, "followup_exclusion_reason": "Goodwill"}
        )
        self._run_followup("2025-01-11")
        self.assertEqual(self.invoice.followup_status, "excluded")
        self.assertFalse(self.invoice.followup_history_ids)

    def test_promise_to_pay_pauses_the_invoice(self):
        with freeze_time("2025-01-05"):
            self.invoice.sudo().followup_promise_date = "2025-01-25"
            self.env.flush_all()  # the status is computed on the day of the promise
        self._run_followup("2025-01-20")
        self.assertEqual(self.invoice.followup_status, "paused_promise")
        self.assertFalse(self.invoice.followup_history_ids)

    def test_broken_promise_resumes_the_follow_up(self):
        with freeze_time("2025-01-05"):
            self.invoice.sudo().followup_promise_date = "2025-01-15"
            self.env.flush_all()  # the status is computed on the day of the promise
        self._run_followup("2025-01-20")
        self.assertFalse(self.invoice.followup_promise_date)
        self.assertEqual(self.invoice.followup_level_id, self.level_1)

    def test_disputed_invoice_does_not_escalate(self):
        self.env["followup.dispute"].create(
            {
                "partner_id": self.customer_be.id,
                "reason_id": self.env["followup.dispute.reason"].search([], limit=1).id,
                "line_ids": [
                    Command.create({"move_id": self.invoice.id, "amount": 1000.0})
                ],
            }
        )
        self.assertTrue(self.invoice.followup_dispute_paused)
        self._run_followup("2025-01-11")
        self.assertEqual(self.invoice.followup_status, "paused_dispute")
        self.assertFalse(self.invoice.followup_history_ids)

    def test_invoice_at_agency_does_not_escalate(self):
        self.invoice.sudo().followup_at_agency = True
        self._run_followup("2025-01-11")
        self.assertEqual(self.invoice.followup_status, "at_agency")
        self.assertFalse(self.invoice.followup_history_ids)

    def test_invoice_excluded_after_planning_is_not_reminded(self):
        Run = self._cron_env()["followup.run"]
        with freeze_time("2025-01-11"):
            Run._cron_run_followup()  # plans only
        # as the exclusion wizard writes it
        self.invoice.sudo().write(
            {"followup_excluded": True, "followup_exclusion_reason": "Goodwill"}
        )
        self._run_followup("2025-01-11")
        self.assertEqual(self._history(self.customer_be).state, "skipped")
        self.assertFalse(self._emails_to(self.customer_be))


@tagged("post_install", "-at_install")
class TestFollowupIdempotency(FollowupRunCase):
    """Running twice sends nothing twice; a crash loses nothing and repeats nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.customer_be | cls.customer_us | cls.customer_fr
        for customer in cls.customers:
            cls._create_invoice(customer, 1000.0, "2025-01-01")

    def test_two_runs_the_same_day_send_one_email(self):
        self._run_followup("2025-01-11")
        self._run_followup("2025-01-11")
        for customer in self.customers:
            self.assertEqual(len(self._emails_to(customer)), 1, customer.name)
            self.assertEqual(len(self._history(customer)), 1, customer.name)

    def test_second_run_the_same_day_plans_nothing(self):
        self._run_followup("2025-01-11")
        reports = self._run_followup("2025-01-11")
        self.assertEqual(reports, [(0, 0)])

    def _crash_second_batch(self):
        """Plan, perform the first customer, then let the process die after the
        email of the second batch was queued; return that batch's action."""
        Run = self._cron_env()["followup.run"]
        History = self._cron_env()["followup.history"]
        with freeze_time("2025-01-11"):
            Run._cron_run_followup(batch_size=1)  # plan
            Run._cron_run_followup(batch_size=1)  # first customer
            pending = History.search([("state", "=", "pending")], order="id", limit=1)
            with (
                patch.object(
                    self._history_class(),
                    "_note_on_invoices",
                    side_effect=RuntimeError("worker killed"),
                ),
                self.assertRaises(RuntimeError),
                self.env.cr.savepoint(),
            ):
                pending._perform()
        self.env.invalidate_all()
        return pending

    def test_rolled_back_batch_leaves_no_email_and_no_done_history(self):
        pending = self._crash_second_batch()
        self.assertEqual(pending.state, "pending")
        self.assertFalse(self._emails_to(pending.partner_id))
        self.assertFalse(pending.move_ids.followup_level_id)

    def test_run_resumed_after_a_crash_reminds_each_partner_once(self):
        self._crash_second_batch()
        self._run_followup("2025-01-11", batch_size=1)
        for customer in self.customers:
            self.assertEqual(len(self._emails_to(customer)), 1, customer.name)
            self.assertEqual(self._history(customer).state, "done", customer.name)

    def test_failing_action_is_marked_failed_without_blocking_the_others(self):
        original = self._history_class()._send_emails
        broken = self.customer_us

        def send_emails(actions, template, messages=None):
            if broken in actions.partner_id:
                raise ValueError("invalid address")
            return original(actions, template, messages)

        with (
            patch.object(self._history_class(), "_send_emails", send_emails),
            self.assertLogs("odoo.addons.receivables_followup", level="ERROR") as logs,
        ):
            self._run_followup("2025-01-11")
        self.assertIn("retrying action by action", logs.output[0])
        self.assertEqual(self._history(broken).state, "failed")
        self.assertIn("invalid address", self._history(broken).note)
        self.assertFalse(self._emails_to(broken))
        for customer in self.customers - broken:
            self.assertEqual(self._history(customer).state, "done", customer.name)
            self.assertEqual(len(self._emails_to(customer)), 1, customer.name)


@tagged("post_install", "-at_install")
class TestFollowupMultiCompany(FollowupRunCase):
    """Each company its own policy; the scheduled action handles them all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company(name="Second Co")["company"]
        cls.company_2.email = "ar@second.example"
        cls.policy_2 = cls._create_policy(cls.company_2, "Second Co policy")
        cls.invoice_1 = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")
        cls.invoice_2 = cls._create_invoice(
            cls.customer_be, 700.0, "2025-01-01", company=cls.company_2
        )

    def test_each_company_gets_its_own_run(self):
        self._run_followup("2025-01-11")
        runs = self.env["followup.run"].sudo().search([("date", "=", "2025-01-11")])
        self.assertEqual(
            runs.company_id & (self.company | self.company_2),
            self.company | self.company_2,
        )

    def test_reminders_never_mix_companies(self):
        self._run_followup("2025-01-11")
        histories = self._cron_env()["followup.history"].search(
            [("partner_id", "=", self.customer_be.id)]
        )
        self.assertEqual(len(histories), 2)
        for history in histories:
            self.assertEqual(history.move_ids.company_id, history.company_id)
            self.assertEqual(history.level_id.company_id, history.company_id)
        self.assertEqual(
            histories.filtered(lambda h: h.company_id == self.company_2).level_id,
            self.policy_2.level_ids.sorted("delay")[0],
        )

    def test_credits_of_another_company_do_not_count(self):
        self._create_credit_note(self.customer_be, 5000.0, company=self.company_2)
        self._run_followup("2025-01-11")
        history = self._history(self.customer_be).filtered(
            lambda h: h.company_id == self.company
        )
        self.assertAlmostEqual(history.amount_claimed, 1000.0)


@tagged("post_install", "-at_install")
class TestFollowupCurrencyDisplay(FollowupRunCase):
    """Thresholds in company currency, amounts shown in invoice currency."""

    def test_usd_invoice_is_shown_in_usd(self):
        self._create_invoice(self.customer_us, 1250.0, "2025-01-01", currency=self.usd)
        self._run_followup("2025-01-11")
        body = self._emails_to(self.customer_us).body_html
        self.assertIn("$", body)
        self.assertIn("1,250.00", body)
        # the claim itself is in company currency: 1,250 USD at 1.25 = 1,000 EUR
        self.assertAlmostEqual(self._history(self.customer_us).amount_claimed, 1000.0)

    def test_threshold_compares_the_company_currency_amount(self):
        policy = self._create_policy(
            self.company, "Minimum 1100", min_amounts=(1100, 0, 0), default=False
        )
        self.customer_us.with_company(self.company).collection_policy_id = policy
        self._create_invoice(self.customer_us, 1250.0, "2025-01-01", currency=self.usd)
        self._run_followup("2025-01-11")
        # 1,250 USD exceeds 1,100 but is only 1,000 EUR: held back
        self.assertFalse(self._history(self.customer_us))

    def test_french_customer_reads_french_amounts(self):
        self._create_invoice(self.customer_fr, 1234.5, "2025-01-01")
        self._run_followup("2025-01-11")
        body = self._emails_to(self.customer_fr).body_html
        self.assertIn("234,50", body)


@tagged("post_install", "-at_install")
class TestFollowupChannels(FollowupRunCase):
    """Activities and SMS, next to the email."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.controller = new_test_user(
            cls.env,
            login="fu_controller",
            groups="receivables_followup.group_followup_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.customer_be.with_company(cls.company).collection_user_id = cls.controller
        cls.customer_be.mobile = "+32 470 12 34 56"
        cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")

    def test_activity_is_assigned_to_the_followup_responsible(self):
        self.level_1.write(
            {
                "create_activity": True,
                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                "activity_deadline_days": 3,
            }
        )
        self._run_followup("2025-01-11")
        activity = self._history(self.customer_be).activity_id
        self.assertEqual(activity.user_id, self.controller)
        self.assertEqual(str(activity.date_deadline), "2025-01-14")
        self.assertEqual(
            (activity.res_model, activity.res_id), ("res.partner", self.customer_be.id)
        )

    def test_sms_is_queued_not_sent(self):
        self.level_1.write(
            {"send_sms": True, "sms_body": "{partner}: {amount} overdue"}
        )
        self._run_followup("2025-01-11")
        self.assertTrue(self._history(self.customer_be).sent_sms)
        sms = self.env["sms.sms"].sudo().search([("number", "ilike", "470")])
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.state, "outgoing")
        self.assertIn("Brussels Trading", sms.body)


@tagged("post_install", "-at_install")
class TestFollowupExcludeWizard(FollowupRunCase):
    """Exclude an invoice with a reason, include it again, record a promise."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")

    def _confirm(self, **values):
        wizard = self.env["followup.exclude.wizard"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        )
        wizard.create(values).action_confirm()
        self.env.flush_all()  # the status is computed on the day of the change

    def test_exclusion_needs_a_reason(self):
        with self.assertRaises(UserError):
            self._confirm(mode="exclude")

    def test_excluded_invoice_keeps_its_reason(self):
        self._confirm(mode="exclude", reason="Customer in insolvency proceedings")
        self.assertEqual(self.invoice.followup_status, "excluded")
        self.assertEqual(
            self.invoice.followup_exclusion_reason, "Customer in insolvency proceedings"
        )

    def test_included_invoice_resumes_without_a_burst(self):
        self._confirm(mode="exclude", reason="Goodwill")
        with freeze_time("2025-03-01"):
            self._confirm(mode="include")
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self.assertEqual(str(self.invoice.followup_resume_date), "2025-03-01")
        self._run_followup("2025-03-01")
        self.assertEqual(self.invoice.followup_level_id, self.level_1)

    def test_promise_to_pay_pauses_the_invoice(self):
        with freeze_time("2025-01-05"):
            self._confirm(mode="promise", promise_date="2025-01-31")
        self.assertEqual(self.invoice.followup_status, "paused_promise")

    def test_promise_in_the_past_is_refused(self):
        with freeze_time("2025-01-05"), self.assertRaises(UserError):
            self._confirm(mode="promise", promise_date="2025-01-04")
