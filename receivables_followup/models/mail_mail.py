from odoo import api, fields, models

from ..services import mail_rows


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
        tracking_ids = mail_rows.tracking_ids(emails)
        messages = mail_rows.message_columns(emails, tracking_ids)
        bodies = mail_rows.mail_bodies(emails)
        self.env["mail.message"].flush_model()
        self.flush_model()
        now = fields.Datetime.now()
        message_ids = self._followup_insert_messages(messages, now)
        mail_by_message = self._followup_insert_mails(message_ids, bodies, now)
        self.env.cr.execute(
            mail_rows.INSERT_RECIPIENTS,
            mail_rows.recipient_columns(emails, message_ids, mail_by_message),
        )
        for model, res_ids in mail_rows.res_ids_by_model(emails).items():
            self.env[model].browse(res_ids).invalidate_recordset(["message_ids"])
        return message_ids

    @api.model
    def _followup_insert_messages(self, columns, now):
        """Insert the chatter messages of ``columns``
        (:func:`mail_rows.message_columns`) in one statement.

        :returns: their ids, in the order of the columns
        """
        self.env.cr.execute(
            mail_rows.INSERT_MESSAGES, {"now": now, "uid": self.env.uid, **columns}
        )
        message_by_tracking_id = {
            tracking_id: message_id
            for message_id, tracking_id in self.env.cr.fetchall()
        }
        return [message_by_tracking_id[key] for key in columns["message_ids"]]

    @api.model
    def _followup_insert_mails(self, message_ids, bodies, now):
        """Insert one outgoing mail per message, with its body, in one statement.

        :returns: {message id: mail id}
        """
        self.env.cr.execute(
            mail_rows.INSERT_MAILS,
            {
                "now": now,
                "uid": self.env.uid,
                "message_ids": message_ids,
                "bodies": bodies,
            },
        )
        return {message_id: mail_id for mail_id, message_id in self.env.cr.fetchall()}
