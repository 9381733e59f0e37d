import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2

from odoo import _, fields, models
from odoo.tools import SQL

from ..services.levels import next_action_date
from ..services.locks import concurrency_error

_logger = logging.getLogger(__name__)


class FollowupHistoryPerform(models.AbstractModel):
    """Performing follow-up actions: the channels (email, letter, activity,
    SMS, late-payment invoice, notes). What is still open just before is
    checked by ``followup.history.refresh``."""

    _name = "followup.history.perform"
    _description = "Follow-up Action: Performing"

    def _take_pending(self, companies, limit):
        """Up to ``limit`` pending actions of ``companies``, oldest first, that
        no other worker holds, locked for this transaction: two cron workers
        share the day's actions batch by batch (``SKIP LOCKED``: neither waits
        for the other) and never perform one twice."""
        if not companies:
            return self.browse()
        self.flush_model(["state", "company_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM followup_history
                 WHERE state = 'pending' AND company_id IN %s
                 ORDER BY id
                 LIMIT %s
                   FOR UPDATE SKIP LOCKED
                """,
                tuple(companies.ids),
                limit,
            )
        )
        return self.browse([action_id for (action_id,) in self.env.cr.fetchall()])

    def _perform(self, origin="cron", messages=None):
        """Perform these actions, channel by channel, in the current transaction.

        Invoices paid or paused since the action was planned are dropped from it,
        and what is claimed follows what is still open; an action left with no
        open invoice is skipped. Each invoice is stamped with its own level and
        with the action's date.

        :param messages: {action id: (subject, body)} a person wrote in place of
            the template's
        """
        # Emails are queued, never sent from inside the batch's transaction.
        records = self.with_context(mail_notify_force_send=False, tracking_disable=True)
        actions = records._drop_closed_invoices()
        if not actions:
            return actions
        actions._compute_legal_amounts()
        # what the reminders show is computed from the lines as they are now
        actions._followup_forget_display()
        templates = actions._followup_email_templates()
        by_template = defaultdict(records.browse)
        for action in actions:
            by_template[templates[action.id]] |= action
        for template, template_actions in by_template.items():
            if template:
                template_actions._send_emails(template, messages)
        by_level = defaultdict(records.browse)
        for action in actions:
            by_level[action.level_id] |= action
        for level, level_actions in by_level.items():
            if level.print_letter:
                level_actions._produce_letters()
            if level.create_activity:
                level_actions._schedule_activities(level)
            if level.send_sms:
                level_actions._send_sms(level)
            if level.is_formal_notice:
                level_actions._invoice_legal_amounts()
            if level.propose_agency_handoff:
                level_actions.write({"proposed_handoff": True})
        actions._note_on_invoices(templates)
        actions._mark_invoices_performed()
        actions._followup_forget_display()
        user = self.env.user if origin == "manual" else self.env["res.users"]
        actions.write({"state": "done", "user_id": user.id, "origin": origin})
        return actions

    def _followup_email_template(self):
        """The template of this action's email to the customer (see
        :meth:`_followup_email_templates`), or an empty recordset."""
        self.ensure_one()
        return self._followup_email_templates()[self.id]

    def _followup_email_templates(self):
        """{action id: the template of its email to the customer}: the action's
        level's; when that level writes to nobody (an agency hand-off proposal
        is an internal decision), the highest of its invoices' levels that does,
        so that the invoices stamped with a reminder level did get their
        reminder. Read from the lines in one query for a whole batch."""
        Template = self.env["mail.template"]
        if not self:
            return {}
        self.env["followup.history.line"].flush_model(["history_id", "level_id"])
        self.env.cr.execute(
            """
            SELECT DISTINCT l.history_id, l.level_id
              FROM followup_history_line l
             WHERE l.history_id = ANY(%s)
            """,
            [self.ids],
        )
        levels_by_action = defaultdict(set)
        for action_id, level_id in self.env.cr.fetchall():
            levels_by_action[action_id].add(level_id)
        for action in self:
            levels_by_action[action.id].add(action.level_id.id)
        levels = self.env["followup.level"].browse(
            {
                level_id
                for ids in levels_by_action.values()
                for level_id in ids
                if level_id
            }
        )
        emailing = {
            level.id: (level.delay, level.id, level.mail_template_id)
            for level in levels
            if level.send_email and level.mail_template_id
        }
        result = {}
        for action in self:
            candidates = [
                emailing[level_id]
                for level_id in levels_by_action[action.id]
                if level_id in emailing
            ]
            result[action.id] = max(candidates)[2] if candidates else Template
        return result

    def _perform_isolated(self, origin="cron"):
        """Perform this action alone in a savepoint; mark it failed if it raises.

        Used after its batch failed, so that one broken action (a template error,
        an invalid address) neither blocks the queue nor rolls back the others.
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._perform(origin=origin)
        except psycopg2.OperationalError:
            raise
        except Exception as error:
            if concurrency_error(error):
                # another worker or a user wrote what this action writes: the
                # whole call is retried in a new transaction, the action with it
                raise
            _logger.exception("Follow-up action %s failed", self.id)
            self.env.invalidate_all()
            self.write({"state": "failed", "note": str(error)})

    def _mark_invoices_performed(self):
        """Stamp each invoice with the level its line reached, the action's date
        and the date of its next level (lines read in one query: a batch stamps
        thousands of invoices)."""
        levels_by_policy = self.policy_id._engine_levels()
        for day, actions in self.grouped("date").items():
            levels, next_dates, cache = {}, {}, {}
            for move_id, level_id, due, policy_id in actions._line_rows():
                key = (policy_id, level_id, due)
                if key not in cache:
                    cache[key] = next_action_date(
                        due, levels_by_policy.get(policy_id, []), level_id, day
                    )
                levels[move_id] = level_id
                next_dates[move_id] = cache[key]
            self.env["account.move"]._followup_mark_levels(levels, day, next_dates)

    def _line_rows(self):
        """(invoice id, level id, due date, policy id) of these actions' lines."""
        self.env["followup.history.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT l.move_id, l.level_id, l.date_due, h.policy_id
              FROM followup_history_line l
              JOIN followup_history h ON h.id = l.history_id
             WHERE l.history_id = ANY(%s)
            """,
            [self.ids],
        )
        return self.env.cr.fetchall()

    # ------------------------------------------------------------------
    # Channels
    # ------------------------------------------------------------------
    def _send_emails(self, template, messages=None):
        """Queue one email per action, logged in the customer's chatter.

        The emails are ``mail.mail`` records in the outgoing queue, inserted in this
        transaction: if the batch rolls back, the emails disappear with their
        history. Each one is logged on the customer by a one-line message, the
        email's own, addressed to the reminder's recipient only (the customer's
        followers do not get a copy of every reminder).
        """
        rendered = self._followup_render_emails(template, messages)
        emails = self._followup_email_rows(rendered)
        message_ids = self.env["mail.mail"]._followup_queue(emails)
        self._record_channel("sent_email", "mail_message_id", message_ids)

    def _followup_render_emails(self, template, messages=None):
        """{action id: the values of its email}: ``template`` rendered for these
        actions, with the subject and body a person wrote where ``messages``
        ({action id: (subject, body)}) has them."""
        # What the reminders show of their invoices is read for the whole batch
        # at the first reminder rendered (see _followup_display).
        rendered = template.with_context(followup_render_once=True)._generate_template(
            self.ids, ("subject", "body_html", "email_from", "partner_to", "reply_to")
        )
        for action_id, (subject, body) in (messages or {}).items():
            if action_id in rendered:
                rendered[action_id].update(subject=subject, body_html=body)
        return rendered

    def _followup_email_rows(self, rendered):
        """The emails of these actions, as ``mail.mail._followup_queue`` takes
        them, from their ``rendered`` values."""
        note_subtype = self.env.ref("mail.mt_note")
        author = self.env.user.partner_id
        # translated once for the batch, not once per reminder
        note = self.env._(
            "Follow-up email (%(level)s) to %(recipient)s: “%(subject)s”, "
            "%(amount)s claimed on %(count)s invoice(s)."
        )
        reply_tos = self._followup_reply_tos()
        emails = []
        for action in self:
            values = rendered[action.id]
            recipient = action.recipient_id or action.partner_id
            email_from = values.get("email_from") or author.email_formatted
            emails.append(
                {
                    "model": "res.partner",
                    "res_id": action.partner_id.id,
                    "record_name": action.partner_id.display_name,
                    "company_id": action.company_id.id,
                    "subtype_id": note_subtype.id,
                    "author_id": author.id,
                    "email_from": email_from,
                    "reply_to": values.get("reply_to")
                    or reply_tos.get(action.company_id)
                    or email_from,
                    "subject": values.get("subject"),
                    "body_html": values.get("body_html") or "",
                    "note": note % action._followup_note_values(values, recipient),
                    "recipient_ids": values.get("partner_ids") or recipient.ids,
                }
            )
        return emails

    def _followup_note_values(self, values, recipient):
        """The values of this action's chatter note on its email."""
        return {
            "level": self.level_id.name,
            "recipient": recipient.display_name,
            "subject": values.get("subject") or "",
            "amount": self._followup_claim_text(),
            "count": len(self.line_ids),
        }

    def _produce_letters(self):
        """Render the letters in one batch and attach each to its customer's
        chatter."""
        contents = self._render_letters()
        for action in self:
            content, extension = contents[action.id]
            name = _(
                "Follow-up %(level)s - %(date)s.%(ext)s",
                level=action.level_id.name,
                date=action.date,
                ext=extension,
            )
            attachment = self.env["ir.attachment"].create(
                {
                    "name": name,
                    "raw": content,
                    "res_model": "res.partner",
                    "res_id": action.partner_id.id,
                }
            )
            action.partner_id.message_post(
                body=_("Follow-up letter (%(level)s).", level=action.level_id.name),
                attachment_ids=attachment.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            action.write({"sent_letter": True, "attachment_id": attachment.id})

    def _render_letters(self):
        """{action id: (content, extension)}: the letters, in one PDF engine call."""
        report = self.company_id[:1].followup_letter_report_id or self.env.ref(
            "receivables_followup.action_report_followup_letter"
        )
        return self.env["ir.actions.report"]._render_followup_documents(
            report, self.ids
        )

    def _schedule_activities(self, level):
        deadline_days = timedelta(days=level.activity_deadline_days)
        partner_model = self.env["ir.model"]._get_id("res.partner")
        # The amount goes in the summary, shown wherever the activity is: a note
        # would be sanitised twice per activity for one line of text.
        summary = self.env._("%(summary)s: %(amount)s overdue")
        vals_list = []
        for action in self:
            vals_list.append(
                {
                    "res_model_id": partner_model,
                    "res_id": action.partner_id.id,
                    "activity_type_id": level.activity_type_id.id,
                    "summary": summary
                    % {
                        "summary": level.activity_summary or level.name,
                        "amount": action._followup_claim_text(),
                    },
                    "date_deadline": action.date + deadline_days,
                    "user_id": action._activity_user(level).id,
                }
            )
        # quick update: no "activity assigned" email per reminder; the responsible
        # finds the day's calls in their activities, not in a hundred emails.
        activities = (
            self.env["mail.activity"]
            .with_context(mail_activity_quick_update=True)
            .create(vals_list)
        )
        self._record_channel("scheduled_activity", "activity_id", activities.ids)

    def _record_channel(self, flag, link, link_ids):
        """Flag each action as performed on a channel and link it to what the
        channel produced (``link_ids``, in the order of the actions), in one
        UPDATE: the ORM writes one action at a time."""
        if len(link_ids) != len(self):
            raise ValueError("One link per action is expected.")
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                """
                UPDATE followup_history h
                   SET %(flag)s = true, %(link)s = v.link_id,
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM unnest(%(ids)s::int[], %(link_ids)s::int[]) AS v(id, link_id)
                 WHERE h.id = v.id
                """,
                flag=SQL.identifier(flag),
                link=SQL.identifier(link),
                uid=self.env.uid,
                now=fields.Datetime.now(),
                ids=self.ids,
                link_ids=list(link_ids),
            )
        )
        self.invalidate_recordset([flag, link, "write_uid", "write_date"])

    def _activity_user(self, level):
        partner = self.partner_id.with_company(self.company_id)
        if level.activity_assignee == "user":
            return level.activity_user_id
        if level.activity_assignee == "salesperson" and partner.user_id:
            return partner.user_id
        # The scheduled action runs as the superuser: an activity falls to it only
        # when nobody else is named anywhere.
        return (
            partner.collection_user_id
            or partner.user_id
            or level.activity_user_id
            or self.env.user
        )

    def _send_sms(self, level):
        """Queue an SMS where the SMS module is installed and the customer has a
        mobile number; elsewhere the channel is silently not available."""
        if "sms.sms" not in self.env:
            return
        for action in self:
            number = action.recipient_id.mobile or action.partner_id.mobile
            if not number:
                continue
            body = (
                level.with_context(lang=action._followup_lang()).sms_body or ""
            ).format(
                partner=action.partner_id.name,
                amount=action._followup_claim_text(),
                company=action.company_id.name,
            )
            # Queued, sent by the SMS cron after this batch commits: an SMS sent now
            # could not be recalled if the batch rolled back.
            action.partner_id._message_sms(
                body, sms_numbers=[number], put_in_queue=True
            )
            action.write({"sent_sms": True})

    def _invoice_legal_amounts(self):
        """Prepare draft invoices of the late-payment amounts, one per currency of
        the reminded invoices, when the company wants them invoiced."""
        for action in self.filtered("company_id.followup_invoice_legal_amounts"):
            invoices = self.env["account.move"]
            for currency, lines in action.line_ids.grouped("currency_id").items():
                invoices |= self.env["account.move"]._followup_create_legal_invoice(
                    action.partner_id,
                    action.company_id,
                    currency,
                    sum(lines.mapped("interest_amount")),
                    sum(lines.mapped("indemnity_amount")),
                    origin=action.display_name,
                )
            if invoices:
                action.write({"legal_invoice_ids": [fields.Command.set(invoices.ids)]})

    def _note_on_invoices(self, templates):
        """One note per reminded invoice in its chatter, naming its own level.

        :param templates: {action id: its email template}, as performed
        """
        # translated once for the batch, not once per reminder
        note = self.env._(
            "Follow-up level %(level)s performed for %(partner)s (%(channels)s)."
        )
        level_names = {level.id: level.name for level in self.level_id}
        lines_by_action = defaultdict(list)
        self.env["followup.history.line"].flush_model()
        self.env.cr.execute(
            "SELECT history_id, move_id, level_id FROM followup_history_line"
            " WHERE history_id = ANY(%s)",
            [self.ids],
        )
        for action_id, move_id, level_id in self.env.cr.fetchall():
            lines_by_action[action_id].append((move_id, level_id))
        missing = {
            level_id
            for lines in lines_by_action.values()
            for _move_id, level_id in lines
            if level_id and level_id not in level_names
        }
        level_names.update(
            {level.id: level.name for level in self.level_id.browse(missing)}
        )
        channels, text_by_move = {}, {}
        for action in self:
            key = (action.level_id, templates[action.id])
            if key not in channels:
                channels[key] = action._channels_label(templates[action.id])
            for move_id, level_id in lines_by_action[action.id]:
                text_by_move[move_id] = note % {
                    "level": level_names.get(level_id) or action.level_id.name,
                    "partner": action.partner_id.name,
                    "channels": channels[key],
                }
        self.env["account.move"]._followup_post_notes(text_by_move)

    def _channels_label(self, template):
        level = self.level_id
        labels = []
        if template:
            labels.append(_("email"))
        if level.print_letter:
            labels.append(_("letter"))
        if level.create_activity:
            labels.append(_("activity"))
        if level.send_sms:
            labels.append(_("SMS"))
        if level.propose_agency_handoff:
            labels.append(_("agency hand-off proposed"))
        return ", ".join(labels) or _("no channel")
