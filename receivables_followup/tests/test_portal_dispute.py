import re
from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common_dispute import DisputeCommon


@tagged("post_install", "-at_install")
class TestPortalDispute(DisputeCommon, HttpCase):
    """The customer portal over real HTTP: dispute an invoice, promise to pay,
    follow one's disputes; never another customer's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._create_invoice()
        cls.other_invoice = cls._create_invoice(partner=cls.other_customer)
        cls.other_dispute = cls.env["followup.dispute"]._open_dispute(
            cls.other_customer,
            {cls.other_invoice: None},
            "quality",
            user=cls.followup_user,
        )

    def setUp(self):
        super().setUp()
        self.authenticate("disp_portal", "disp_portal_pw")

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _page(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return response

    def _csrf(self, invoice=None):
        """The csrf token of the form on the customer's own invoice page."""
        html = self._page(f"/my/invoices/{(invoice or self.invoice).id}").text
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def _post_dispute(self, invoice, files=None, **values):
        data = {
            "csrf_token": self._csrf(),
            "reason_id": self.reason_pricing.id,
            "message": "Unit price should be 900.",
            # what the form pre-fills: the whole amount left to pay
            "amount": "1150.00",
            **values,
        }
        return self.url_open(
            f"/my/invoices/{invoice.id}/dispute", data=data, files=files
        )

    def _disputes_of(self, invoice):
        return self.env["followup.dispute"].search(
            [("line_ids.move_id", "=", invoice.id)]
        )

    # ------------------------------------------------------------------
    # Raising a dispute
    # ------------------------------------------------------------------
    def test_invoice_page_offers_dispute_and_promise_forms(self):
        html = self._page(f"/my/invoices/{self.invoice.id}").text
        self.assertIn("followup_dispute_form", html)
        self.assertIn("followup_promise_form", html)
        self.assertIn(self.reason_pricing.name, html)

    def test_customer_raises_a_dispute(self):
        response = self._post_dispute(
            self.invoice,
            files={
                "attachment": ("delivery_note.txt", b"signed for 9 units", "text/plain")
            },
        )
        dispute = self._disputes_of(self.invoice)
        self.assertEqual(len(dispute), 1)
        self.assertTrue(
            response.url.endswith(f"/my/disputes/{dispute.id}"), response.url
        )
        self.assertEqual(
            (dispute.origin, dispute.partner_id, dispute.state),
            ("portal", self.customer, "open"),
        )
        self.assertEqual(dispute.line_ids.amount, 1150.0)
        self.assertEqual(self.invoice.followup_status, "paused_dispute")

    def test_portal_dispute_gives_responsible_an_activity(self):
        self._post_dispute(self.invoice)
        dispute = self._disputes_of(self.invoice)
        self.assertEqual(dispute.user_id, self.followup_user)
        self.assertEqual(dispute.activity_ids.user_id, self.followup_user)

    def test_portal_dispute_keeps_message_and_attachment(self):
        self._post_dispute(
            self.invoice,
            files={
                "attachment": ("delivery_note.txt", b"signed for 9 units", "text/plain")
            },
        )
        dispute = self._disputes_of(self.invoice)
        message = dispute.message_ids.filtered(
            lambda msg: msg.author_id == self.contact and msg.message_type == "comment"
        )
        self.assertEqual(len(message), 1)
        self.assertIn("Unit price should be 900.", str(message.body))
        self.assertEqual(message.attachment_ids.mapped("name"), ["delivery_note.txt"])
        self.assertEqual(message.attachment_ids.res_id, dispute.id)
        self.assertIn(self.contact, dispute.message_partner_ids)

    def test_partial_amount_disputes_part_of_the_invoice(self):
        self._post_dispute(self.invoice, amount="230.00")
        self.assertEqual(self._disputes_of(self.invoice).line_ids.amount, 230.0)

    # ------------------------------------------------------------------
    # Seeing one's disputes
    # ------------------------------------------------------------------
    def test_customer_sees_dispute_state_and_messages(self):
        self._post_dispute(self.invoice)
        dispute = self._disputes_of(self.invoice)
        dispute.action_review()
        html = self._page(f"/my/disputes/{dispute.id}").text
        self.assertIn(dispute.name, html)
        self.assertIn("Under Review", html)
        messages = self.make_jsonrpc_request(
            "/mail/chatter_fetch",
            {"thread_model": "followup.dispute", "thread_id": dispute.id, "limit": 20},
        )
        bodies = " ".join(str(msg["body"]) for msg in messages["data"]["mail.message"])
        self.assertIn("Unit price should be 900.", bodies)
        self.assertIn("reviewing it", bodies, "the acknowledgement shows in the portal")
        self.assertNotIn(
            "Dispute opened: follow-up paused", bodies, "internal note hidden"
        )

    def test_customer_sees_rejection_reason(self):
        self._post_dispute(self.invoice)
        dispute = self._disputes_of(self.invoice)
        dispute.action_reject("The price is the one of quote Q-42.")
        html = self._page(f"/my/disputes/{dispute.id}").text
        self.assertIn("Rejected", html)
        self.assertIn("The price is the one of quote Q-42.", html)

    def test_dispute_list_shows_own_disputes_only(self):
        self._post_dispute(self.invoice)
        html = self._page("/my/disputes").text
        self.assertIn(self._disputes_of(self.invoice).name, html)
        self.assertNotIn(self.other_dispute.name, html)

    def test_invoice_page_lists_its_disputes(self):
        self._post_dispute(self.invoice, amount="100")
        html = self._page(f"/my/invoices/{self.invoice.id}").text
        self.assertIn(self._disputes_of(self.invoice).name, html)

    # ------------------------------------------------------------------
    # Someone else's invoice or dispute
    # ------------------------------------------------------------------
    def test_customer_cannot_see_another_customer_invoice(self):
        response = self.url_open(f"/my/invoices/{self.other_invoice.id}")
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.assertNotIn(self.other_invoice.name, response.text)

    def test_customer_cannot_see_another_customer_dispute(self):
        response = self.url_open(f"/my/disputes/{self.other_dispute.id}")
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.assertNotIn(self.other_dispute.name, response.text)

    def test_customer_cannot_dispute_another_customer_invoice(self):
        response = self._post_dispute(self.other_invoice)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._disputes_of(self.other_invoice), self.other_dispute)

    def test_customer_cannot_dispute_invoice_shared_by_token(self):
        """An access token lets one read an invoice, not dispute it as its customer."""
        self.other_invoice._portal_ensure_token()
        response = self.url_open(
            f"/my/invoices/{self.other_invoice.id}/dispute"
            f"?access_token={self.other_invoice.access_token}",
            data={
                "csrf_token": self._csrf(),
                "reason_id": self.reason_pricing.id,
                "message": "Not mine",
            },
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._disputes_of(self.other_invoice), self.other_dispute)

    def test_other_customer_cannot_see_my_dispute(self):
        self._post_dispute(self.invoice)
        dispute = self._disputes_of(self.invoice)
        self.authenticate("disp_portal_other", "disp_portal_other_pw")
        response = self.url_open(f"/my/disputes/{dispute.id}")
        self.assertTrue(response.url.endswith("/my"), response.url)

    # ------------------------------------------------------------------
    # Bad input: refused with a message, nothing changed
    # ------------------------------------------------------------------
    def test_paid_invoice_cannot_be_disputed(self):
        paid = self._create_invoice()
        self._pay(paid)
        response = self._post_dispute(paid)
        self.assertEqual(response.status_code, 400)
        self.assertIn("already paid", response.text)
        self.assertFalse(self._disputes_of(paid))

    def test_too_large_amount_is_refused(self):
        count = self._dispute_count()
        response = self._post_dispute(self.invoice, amount="5000")
        self.assertEqual(response.status_code, 400)
        self.assertIn("exceeds what is left to pay", response.text)
        self.assertEqual(self._dispute_count(), count)
        self.assertEqual(self.invoice.followup_status, "in_followup")

    def test_negative_amount_is_refused(self):
        count = self._dispute_count()
        response = self._post_dispute(self.invoice, amount="-5")
        self.assertEqual(response.status_code, 400)
        self.assertIn("must be positive", response.text)
        self.assertEqual(self._dispute_count(), count)

    def test_missing_message_is_refused(self):
        count = self._dispute_count()
        response = self._post_dispute(self.invoice, message=" ")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Tell us what you dispute", response.text)
        self.assertEqual(self._dispute_count(), count)

    def test_post_without_csrf_token_is_refused(self):
        count = self._dispute_count()
        response = self.url_open(
            f"/my/invoices/{self.invoice.id}/dispute",
            data={"reason_id": self.reason_pricing.id, "message": "No token"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._dispute_count(), count)

    # ------------------------------------------------------------------
    # Promise to pay
    # ------------------------------------------------------------------
    def test_customer_promises_to_pay(self):
        promised = self.company._followup_today() + timedelta(days=10)
        response = self.url_open(
            f"/my/invoices/{self.invoice.id}/promise",
            data={"csrf_token": self._csrf(), "promise_date": str(promised)},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("followup_success", response.text)
        self.assertEqual(self.invoice.followup_promise_date, promised)
        self.assertEqual(self.invoice.followup_status, "paused_promise")
        activity = self.invoice.activity_ids
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("receivables_followup.mail_activity_type_promise_check"),
        )
        self.assertEqual(activity.user_id, self.followup_user)
        self.assertEqual(activity.date_deadline, promised)

    def test_promise_in_the_past_is_refused(self):
        response = self.url_open(
            f"/my/invoices/{self.invoice.id}/promise",
            data={
                "csrf_token": self._csrf(),
                "promise_date": str(self.company._followup_today() - timedelta(days=1)),
            },
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("cannot be in the past", response.text)
        self.assertFalse(self.invoice.followup_promise_date)

    def test_customer_cannot_promise_on_another_customer_invoice(self):
        response = self.url_open(
            f"/my/invoices/{self.other_invoice.id}/promise",
            data={
                "csrf_token": self._csrf(),
                "promise_date": str(self.company._followup_today() + timedelta(days=3)),
            },
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.other_invoice.followup_promise_date)

    def test_promise_beyond_the_policy_horizon_is_refused(self):
        policy = self.env["followup.policy"]._default_for_company(self.company)
        self.assertEqual(policy.promise_max_days, 30)
        response = self.url_open(
            f"/my/invoices/{self.invoice.id}/promise",
            data={
                "csrf_token": self._csrf(),
                "promise_date": "9999-12-31",
            },
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("needs the approval of a follow-up manager", response.text)
        self.assertFalse(self.invoice.followup_promise_date)

    def test_renewed_promises_leave_one_check_activity(self):
        today = self.company._followup_today()
        for days in (5, 10, 15):
            self.url_open(
                f"/my/invoices/{self.invoice.id}/promise",
                data={
                    "csrf_token": self._csrf(),
                    "promise_date": str(today + timedelta(days=days)),
                },
            )
        check = self.env.ref("receivables_followup.mail_activity_type_promise_check")
        activities = self.invoice.activity_ids.filtered(
            lambda activity: activity.activity_type_id == check
        )
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.date_deadline, today + timedelta(days=15))

    # ------------------------------------------------------------------
    # Amounts and messages as customers type them, and as attackers do
    # ------------------------------------------------------------------
    def test_amount_with_a_decimal_comma_is_understood(self):
        for typed in ("1 150,00", "1.150,00", "1\u202f150,00"):
            with self.subTest(typed=typed):
                self._post_dispute(self.invoice, amount=typed)
                dispute = self._disputes_of(self.invoice).filtered(
                    lambda dispute: dispute.state == "open"
                )
                self.assertEqual(dispute.line_ids.amount, 1150.0)
                dispute.action_cancel()

    def test_empty_amount_is_refused(self):
        count = self._dispute_count()
        response = self._post_dispute(self.invoice, amount="")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Enter the amount you dispute", response.text)
        self.assertEqual(self._dispute_count(), count)

    def test_unreadable_amounts_are_refused_without_a_server_error(self):
        count = self._dispute_count()
        for typed in ("1e308", "inf", "NaN", "-inf", "12,3,4", "abc", "1" * 400):
            with self.subTest(typed=typed):
                response = self._post_dispute(self.invoice, amount=typed)
                self.assertEqual(response.status_code, 400)
        self.assertEqual(self._dispute_count(), count)
        self.assertEqual(self.invoice.followup_status, "in_followup")

    def test_huge_message_is_refused_before_anything_is_stored(self):
        count = self._dispute_count()
        messages = self.env["mail.message"].search_count([])
        response = self._post_dispute(self.invoice, message="x" * 1_000_000)
        self.assertEqual(response.status_code, 400)
        self.assertIn("too long", response.text)
        self.assertEqual(self._dispute_count(), count)
        self.assertEqual(self.env["mail.message"].search_count([]), messages)
