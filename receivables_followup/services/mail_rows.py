"""The rows the follow-up queues its emails with: messages, mails, recipients.

A run queues thousands of reminders in three INSERTs (``unnest`` over one array per
column) instead of one ``mail.mail.create()`` each, which would sanitise every body
four times. The statements and the arrays they read are built here from the list of
emails ``mail.mail._followup_queue`` receives.
"""

from markupsafe import Markup

from odoo.tools.mail import generate_tracking_message_id

INSERT_MESSAGES = """
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
"""

INSERT_MAILS = """
    INSERT INTO mail_mail (
        mail_message_id, body_html, state, is_notification, auto_delete,
        create_uid, create_date, write_uid, write_date)
    SELECT v.message_id, v.body, 'outgoing', true, false,
           %(uid)s, %(now)s, %(uid)s, %(now)s
      FROM unnest(%(message_ids)s::int[], %(bodies)s::text[])
           AS v(message_id, body)
    RETURNING id, mail_message_id
"""

INSERT_RECIPIENTS = """
    INSERT INTO mail_mail_res_partner_rel (mail_mail_id, res_partner_id)
    SELECT * FROM unnest(%s::int[], %s::int[])
"""


def tracking_ids(emails):
    """The ``Message-Id`` of each email, in order: it finds the inserted
    message of each email again in the rows the INSERT returns."""
    return [
        generate_tracking_message_id(f"{email['res_id']}-{email['model']}")
        for email in emails
    ]


def message_columns(emails, message_ids):
    """The per-email arrays of :data:`INSERT_MESSAGES`: the chatter message is
    the email's plain ``note``, escaped into a paragraph.

    :param message_ids: :func:`tracking_ids` of ``emails``
    """
    return {
        "models": [email["model"] for email in emails],
        "res_ids": [email["res_id"] for email in emails],
        "names": [email["record_name"] for email in emails],
        "companies": [email["company_id"] for email in emails],
        "subtypes": [email["subtype_id"] for email in emails],
        "authors": [email["author_id"] for email in emails],
        "senders": [email["email_from"] or None for email in emails],
        "reply_tos": [email["reply_to"] or None for email in emails],
        "subjects": [email["subject"] or None for email in emails],
        "bodies": [str(Markup("<p>%s</p>") % email["note"]) for email in emails],
        "message_ids": message_ids,
    }


def mail_bodies(emails):
    """The body of each email, as rendered, in order."""
    return [email["body_html"] or "" for email in emails]


def recipient_columns(emails, message_ids, mail_by_message):
    """([mail id], [partner id]) of :data:`INSERT_RECIPIENTS`: one pair per
    recipient of each email.

    :param message_ids: the message id of each email, in order
    :param mail_by_message: {message id: mail id}
    """
    mail_ids, partner_ids = [], []
    for email, message_id in zip(emails, message_ids, strict=True):
        for partner_id in email["recipient_ids"]:
            mail_ids.append(mail_by_message[message_id])
            partner_ids.append(partner_id)
    return mail_ids, partner_ids


def res_ids_by_model(emails):
    """{model: [record id]} of the records the emails are logged on."""
    result = {}
    for email in emails:
        result.setdefault(email["model"], []).append(email["res_id"])
    return result
