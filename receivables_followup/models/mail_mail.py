from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools.mail import generate_tracking_message_id


class MailMail(models.Model):
    _inherit = "mail.mail"

    @api.model
    def _followup_queue(self, emails):
        """Queue outgoing emails, each logged on its record by a one-line note.

        Three INSERTs for the whole list instead of ``mail.mail.create()``: the
        follow-up run queues thousands of reminders, and the ORM sanitises each
        body four times (a few milliseconds each for a reminder listing its
        invoices) to store it as the chatter message. Here the chatter message is
        the plain ``note``, escaped, and the email keeps its rendered body as
        Odoo's ``mail.mail`` does (its ``body_html`` is never sanitised either);
        the follow-up action shows that body sanitised, when someone opens it. The
        rows are those the ORM would write; the mail queue sends them as any other.

        :param emails: list of dicts with ``model``, ``res_id``, ``record_name``,
            ``company_id``, ``subject``, ``body_html`` (the email), ``note`` (plain
            text for the chatter), ``email_from``, ``reply_to``, ``author_id``,
            ``subtype_id`` and ``recipient_ids`` (partner ids)
        :returns: the ``mail.message`` ids, in the order of ``emails``
        """
        if not emails:
            return []
        Message = self.env["mail.message"]
        notes = [str(Markup("<p>%s</p>") % email["note"]) for email in emails]
        bodies = [email["body_html"] or "" for email in emails]
        tracking_ids = [
            generate_tracking_message_id(f"{email['res_id']}-{email['model']}")
            for email in emails
        ]
        Message.flush_model()
        self.flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            INSERT INTO mail_message (
                model, res_id, record_name, record_company_id, message_type,
                subtype_id, is_internal, author_id, email_from, reply_to, subject,
                body, message_id, email_add_signature, reply_to_force_new, date,
                create_uid, create_date, write_uid, write_date)
            SELECT v.model, v.res_id, v.record_name, v.company_id, 'comment',
                   v.subtype_id, false, v.author_id, v.email_from, v.reply_to,
                   v.subject, v.body, v.message_id, true, false, %(now)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(models)s::varchar[], %(res_ids)s::int[],
                          %(names)s::varchar[], %(companies)s::int[],
                          %(subtypes)s::int[], %(authors)s::int[],
                          %(senders)s::varchar[], %(reply_tos)s::varchar[],
                          %(subjects)s::varchar[], %(bodies)s::text[],
                          %(message_ids)s::varchar[])
                   AS v(model, res_id, record_name, company_id, subtype_id,
                        author_id, email_from, reply_to, subject, body, message_id)
            RETURNING id, message_id
            """,
            {
                "now": now,
                "uid": self.env.uid,
                "models": [email["model"] for email in emails],
                "res_ids": [email["res_id"] for email in emails],
                "names": [email["record_name"] for email in emails],
                "companies": [email["company_id"] for email in emails],
                "subtypes": [email["subtype_id"] for email in emails],
                "authors": [email["author_id"] for email in emails],
                "senders": [email["email_from"] or None for email in emails],
                "reply_tos": [email["reply_to"] or None for email in emails],
                "subjects": [email["subject"] or None for email in emails],
                "bodies": notes,
                "message_ids": tracking_ids,
            },
        )
        message_by_tracking_id = {
            tracking_id: message_id
            for message_id, tracking_id in self.env.cr.fetchall()
        }
        message_ids = [message_by_tracking_id[key] for key in tracking_ids]
        self.env.cr.execute(
            """
            INSERT INTO mail_mail (
                mail_message_id, body_html, state, is_notification, auto_delete,
                create_uid, create_date, write_uid, write_date)
            SELECT v.message_id, v.body, 'outgoing', true, false,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(message_ids)s::int[], %(bodies)s::text[])
                   AS v(message_id, body)
            RETURNING id, mail_message_id
            """,
            {
                "now": now,
                "uid": self.env.uid,
                "message_ids": message_ids,
                "bodies": bodies,
            },
        )
        mail_by_message = {
            message_id: mail_id for mail_id, message_id in self.env.cr.fetchall()
        }
        mail_ids, partner_ids = [], []
        for email, message_id in zip(emails, message_ids, strict=True):
            for partner_id in email["recipient_ids"]:
                mail_ids.append(mail_by_message[message_id])
                partner_ids.append(partner_id)
        self.env.cr.execute(
            """
            INSERT INTO mail_mail_res_partner_rel (mail_mail_id, res_partner_id)
            SELECT * FROM unnest(%s::int[], %s::int[])
            """,
            [mail_ids, partner_ids],
        )
        res_ids_by_model = defaultdict(list)
        for email in emails:
            res_ids_by_model[email["model"]].append(email["res_id"])
        for model, res_ids in res_ids_by_model.items():
            self.env[model].browse(res_ids).invalidate_recordset(["message_ids"])
        return message_ids
