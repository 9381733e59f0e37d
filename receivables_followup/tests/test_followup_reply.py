"""Replies hold the escalation: a customer's answer to a reminder comes back
through Odoo's mail gateway (``message_process``, fed the raw e-mail as the
fetchmail server or the mail gateway script does), lands in the customer's
thread with its attachments, gives the responsible an activity and holds the
customer's follow-up for the policy's number of days; an automatic reply or a
bounce holds nothing.
"""

from datetime import date
from email.message import EmailMessage

from freezegun import freeze_time

from odoo.tests import tagged

from ..services.inbound import is_automatic_reply
from .common import FollowupCommon

TODAY = "2025-03-10 10:00:00"


@tagged("post_install", "-at_install")
class TestReplyHold(FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        alias_domain = cls.env["mail.alias.domain"].create(
            {
                "name": "company.example",
                "catchall_alias": "catchall",
                "bounce_alias": "bounce",
            }
        )
        cls.company.alias_domain_id = alias_domain
        cls.controller = cls.env["res.users"].create(
            {
                "name": "Camille Credit",
                "login": "camille_credit",
                "email": "camille@company.example",
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)],
                "groups_id": [
                    (
                        6,
                        0,
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("receivables_followup.group_followup_user").id,
                        ],
                    )
                ],
            }
        )
        cls.customer_fr.with_company(
            cls.company
        ).sudo().collection_user_id = cls.controller
        cls.invoice = cls._create_invoice(cls.customer_fr, 1150.0, "2025-02-20")
        cls.other = cls._create_invoice(cls.customer_fr, 300.0, "2025-02-25")

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _reminder(self):
        self._run_followup(TODAY)
        [email] = self._emails_to(self.customer_fr)
        return email

    def _raw_reply(
        self, email, body="We paid yesterday, see the attached proof.", **headers
    ):
        """The customer's answer to ``email`` as its mail server delivers it."""
        message = EmailMessage()
        message["From"] = f'"Jean Dupont" <{self.customer_fr.email}>'
        message["To"] = email.reply_to
        message["Subject"] = f"Re: {email.subject}"
        message["Message-Id"] = "<answer-1@customer.example>"
        message["In-Reply-To"] = email.message_id
        message["References"] = email.message_id
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        message.set_content(body)
        message.add_attachment(
            b"%PDF-1.4 transfer order",
            maintype="application",
            subtype="pdf",
            filename="transfer.pdf",
        )
        return message.as_bytes()

    def _process(self, raw, today=TODAY):
        with freeze_time(today):
            self.env["mail.thread"].message_process(False, raw)
        self.env.invalidate_all()

    def _answer_activities(self):
        activity_type = self.env.ref(
            "receivables_followup.mail_activity_type_customer_answered"
        )
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.customer_fr.id),
                ("activity_type_id", "=", activity_type.id),
            ]
        )

    # ------------------------------------------------------------------
    # The reply reaches Odoo
    # ------------------------------------------------------------------
    def test_reminder_replies_to_the_catchall_of_the_mail_gateway(self):
        email = self._reminder()
        self.assertEqual(email.reply_to, '"company_1_data" <catchall@company.example>')

    def test_reply_lands_in_the_customers_thread_and_holds_its_follow_up(self):
        email = self._reminder()
        self._process(self._raw_reply(email))

        answer = self.env["mail.message"].search(
            [("message_id", "=", "<answer-1@customer.example>")]
        )
        self.assertEqual(
            (answer.model, answer.res_id), ("res.partner", self.customer_fr.id)
        )
        self.assertEqual(answer.parent_id, email.mail_message_id)
        self.assertIn("We paid yesterday", answer.body)
        self.assertEqual(answer.attachment_ids.mapped("name"), ["transfer.pdf"])

        held_until = date(2025, 3, 17)  # the policy's 7 days
        for invoice in self.invoice | self.other:
            self.assertEqual(invoice.followup_status, "paused_answered")
            self.assertEqual(invoice.followup_answered_until, held_until)
        self.assertEqual(
            self.customer_fr.with_company(self.company).collection_answered_until,
            held_until,
        )
        activity = self._answer_activities()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.controller)
        self.assertEqual(activity.date_deadline, date(2025, 3, 10))
        self.assertIn(email.subject, activity.summary)

    def test_held_customer_gets_nothing_until_the_hold_ends(self):
        email = self._reminder()
        self._process(self._raw_reply(email))
        # the second level falls due (30 days) during a hold of 60 days
        self.policy.reply_hold_days = 60
        self._process(self._raw_reply(email).replace(b"answer-1", b"answer-2"))
        self._run_followup("2025-03-25 10:00:00")
        self.assertEqual(len(self._emails_to(self.customer_fr)), 1)
        self.assertEqual(self.invoice.followup_answered_until, date(2025, 5, 9))
        # a second answer keeps a single activity
        self.assertEqual(len(self._answer_activities()), 1)

        # the day after the hold, the follow-up resumes
        self._run_followup("2025-05-10 10:00:00")
        self.assertFalse(self.invoice.followup_answered_until)
        self.assertEqual(self.invoice.followup_resume_date, date(2025, 5, 10))
        self.assertNotEqual(self.invoice.followup_status, "paused_answered")
        self.assertFalse(self._answer_activities())
        notes = self.customer_fr.message_ids.mapped("body")
        self.assertTrue(
            any("resumes" in body for body in notes), "the end of the hold is logged"
        )

    def test_hold_ends_when_the_responsible_lifts_it(self):
        email = self._reminder()
        self._process(self._raw_reply(email))
        with freeze_time("2025-03-11 09:00:00"):
            self.customer_fr.with_user(self.controller).action_followup_lift_hold()
        self.env.invalidate_all()
        self.assertFalse(self.invoice.followup_answered_until)
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self.assertEqual(self.invoice.followup_resume_date, date(2025, 3, 11))
        self.assertFalse(self._answer_activities())

    def test_policy_without_hold_still_tells_the_responsible(self):
        self.policy.reply_hold_days = 0
        email = self._reminder()
        self._process(self._raw_reply(email))
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self.assertFalse(self.invoice.followup_answered_until)
        self.assertEqual(len(self._answer_activities()), 1)

    # ------------------------------------------------------------------
    # Machines do not hold anything
    # ------------------------------------------------------------------
    def test_out_of_office_reply_holds_nothing(self):
        email = self._reminder()
        self._process(
            self._raw_reply(
                email,
                body="I am out of the office until Monday.",
                **{"Auto-Submitted": "auto-replied"},
            )
        )
        answer = self.env["mail.message"].search(
            [("message_id", "=", "<answer-1@customer.example>")]
        )
        self.assertEqual(answer.res_id, self.customer_fr.id, "still filed")
        self.assertEqual(self.invoice.followup_status, "in_followup")
        self.assertFalse(self.invoice.followup_answered_until)
        self.assertFalse(self._answer_activities())

    def test_bounce_holds_nothing(self):
        email = self._reminder()
        bounce = EmailMessage()
        bounce["From"] = "MAILER-DAEMON@customer.example"
        bounce["To"] = "bounce@company.example"
        bounce["Subject"] = "Undelivered Mail Returned to Sender"
        bounce["Message-Id"] = "<bounce-1@customer.example>"
        bounce["In-Reply-To"] = email.message_id
        bounce.set_content("The mailbox does not exist.")
        self._process(bounce.as_bytes())
        self.assertFalse(
            self.env["mail.message"].search(
                [("message_id", "=", "<bounce-1@customer.example>")]
            )
        )
        self.assertFalse(self.invoice.followup_answered_until)
        self.assertFalse(self._answer_activities())

    def test_automatic_reply_headers(self):
        self.assertTrue(is_automatic_reply({"Auto-Submitted": "auto-replied"}))
        self.assertTrue(is_automatic_reply({"Auto-Submitted": "auto-generated"}))
        self.assertFalse(is_automatic_reply({"Auto-Submitted": "no"}))
        self.assertTrue(is_automatic_reply({"X-Autoreply": "yes"}))
        self.assertTrue(is_automatic_reply({"Precedence": "auto_reply"}))
        self.assertTrue(is_automatic_reply({"Precedence": "bulk"}))
        self.assertFalse(is_automatic_reply({"Subject": "Re: payment reminder"}))

    def test_reply_to_another_message_holds_nothing(self):
        self._reminder()
        note = self.customer_fr.message_post(body="Internal", message_type="comment")
        raw = (
            f"From: {self.customer_fr.email}\r\nTo: catchall@company.example\r\n"
            f"Subject: Re: something\r\nMessage-Id: <answer-9@customer.example>\r\n"
            f"In-Reply-To: {note.message_id}\r\n\r\nHello"
        ).encode()
        self._process(raw)
        self.assertFalse(self.invoice.followup_answered_until)
        self.assertFalse(self._answer_activities())
