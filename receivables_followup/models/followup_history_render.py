from collections import Counter, defaultdict, namedtuple

from psycopg2.errors import ReadOnlySqlTransaction

from odoo import api, fields, models

from ..services import legal
from ..services.claims import totals_by_currency
from ..services.formatting import (
    ReminderFormatter,
    currency_format,
    remittance_information,
)
from ..services.levels import days_overdue
from ..services.qr_image import qr_svg_data_uri

#: key of the transaction's cache of what reminders show (_followup_display)
DISPLAY_CACHE = "receivables_followup.display"
#: what a reminder shows of each of its invoices, as read in one query
DisplayRow = namedtuple(
    "DisplayRow",
    "move_id name invoice_date date_due payment_reference level_id currency_id "
    "amount_residual amount_credit interest_amount indemnity_amount access_token "
    "partner_bank_id",
)
#: longest unstructured remittance information of a SEPA credit transfer
SEPA_REMITTANCE_MAX = 140


def _legal_texts(env):
    """The texts of a reminder's amounts, translated once per language."""
    return {
        "and": env._("%(amounts)s and %(last)s"),
        "credit": env._(
            "Your unreconciled credits of %(credit)s have been deducted from the "
            "amount due."
        ),
        "indemnity": env._("fixed recovery indemnity (EUR 40 per invoice)"),
        "indemnity_converted": env._(
            "fixed recovery indemnity (EUR 40 per invoice, converted into "
            "%(currency)s at the rate of %(date)s)"
        ),
    }


class FollowupHistoryRender(models.AbstractModel):
    """What the reminder shows: the helpers its templates and letter call, and
    the previews and copies of sent emails shown to credit controllers.

    Every amount a customer reads is in the currency of its invoice, formatted in
    the customer's language; company-currency figures are for the accountants'
    lists only.
    """

    _name = "followup.history.render"
    _description = "Follow-up Action: Rendering"

    sent_body = fields.Html(
        string="Email Sent",
        compute="_compute_sent_body",
        help="The email as it was sent to the customer.",
    )
    preview_subject = fields.Char(compute="_compute_preview")
    preview_body = fields.Html(compute="_compute_preview")

    @api.model
    def mail_allowed_qweb_expressions(self):
        # The reminder templates' sender, recipient, language and subject are plain
        # field paths: Odoo renders those without evaluating code, which is both
        # safe for users who are not template editors and fast for a whole run.
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.company_id.name",
            "object.sender_email",
            "object.recipient_id.id",
            "object.recipient_id.name",
            "object.recipient_lang",
        )

    @api.depends("mail_message_id")
    def _compute_sent_body(self):
        # sudo: follow-up users may not read mail.mail; they see the body of the
        # reminders they may see, sanitised by this field. Only the email the
        # engine queued for this action's own customer is shown.
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search_read(
                [
                    ("mail_message_id", "in", self.mail_message_id.ids),
                    ("model", "=", "res.partner"),
                ],
                ["mail_message_id", "body_html", "res_id"],
            )
        )
        mail_by_message = {mail["mail_message_id"][0]: mail for mail in mails}
        for action in self:
            mail = mail_by_message.get(action.mail_message_id.id)
            own = mail and mail["res_id"] == action.partner_id.id
            action.sent_body = mail["body_html"] if own else False

    @api.depends("state", "level_id")
    def _compute_preview(self):
        for action in self:
            template = action.id and action._followup_email_template()
            if not template:
                action.preview_subject = False
                action.preview_body = False
                continue
            rendered = template._generate_template(
                [action.id], ("subject", "body_html")
            )
            action.preview_subject = rendered[action.id].get("subject")
            action.preview_body = rendered[action.id].get("body_html")

    # ------------------------------------------------------------------
    # Amounts, in the invoices' currencies and the customer's language
    # ------------------------------------------------------------------
    def _followup_formatter(self):
        return ReminderFormatter.for_lang(self.env, self._followup_lang())

    def _followup_format(self, amount, currency=None):
        return self._followup_formatter().amount(amount, currency or self.currency_id)

    def _followup_totals(self):
        """Per currency of the reminded invoices, in the order of their codes:
        what is open, the credits deducted and what is claimed, formatted.

        :returns: list of dicts with ``currency``, ``invoiced``, ``credited``,
            ``claimed`` (texts) and ``has_credit``
        """
        self.ensure_one()
        return self._followup_display()["totals"]

    def _followup_claim_text(self):
        """What the reminder asks the customer to pay: one amount per currency,
        joined the way the customer's language joins a list."""
        self.ensure_one()
        return self._followup_display()["claim"]

    def _followup_credit_text(self):
        self.ensure_one()
        return self._followup_display()["credit"]

    def _followup_invoice_lines(self):
        """The reminded invoices as the customer reads them: each at its own
        stage, its open amount in its own currency."""
        self.ensure_one()
        return self._followup_display()["lines"]

    def _followup_legal_lines(self):
        """The late-payment amounts of a formal notice, per currency, with the
        law that grants them; empty when no late-payment law applies.

        The EUR 40 indemnity is converted only for invoices in another currency,
        and then the text says so.
        """
        self.ensure_one()
        return self._followup_display()["legal"]

    def _followup_display(self):
        """Everything a reminder shows of its invoices and amounts, formatted in
        the recipient's language.

        A template and its letter ask for the totals several times per reminder,
        for hundreds of reminders: the values are computed once, for every
        reminder of the batch at the first request, and kept in the
        transaction's cache until :meth:`_followup_forget_display`.
        """
        self.ensure_one()
        cache = self.env.cr.cache.setdefault(DISPLAY_CACHE, {})
        if self.id not in cache:
            batch = self.browse(self._prefetch_ids).filtered(
                lambda action: action.id not in cache
            )
            cache.update((batch | self)._followup_display_batch())
        return cache[self.id]

    def _followup_forget_display(self):
        """Drop what :meth:`_followup_display` computed (their lines changed, or
        the batch is done)."""
        cache = self.env.cr.cache.get(DISPLAY_CACHE)
        if cache:
            for action_id in self.ids:
                cache.pop(action_id, None)

    def _followup_display_batch(self):
        """{action id: its display values}, for these actions.

        The lines are read in one query: building a batch's reminders through
        the ORM read each line's and invoice's fields one by one.
        """
        eur = self.env.ref("base.EUR")
        rows_by_action = self._followup_display_rows()
        base_url = self[:1].get_base_url()
        currencies = {
            currency.id: currency
            for currency in self.env["res.currency"].browse(
                {row.currency_id for rows in rows_by_action.values() for row in rows}
            )
        }
        money_formats = {
            currency_id: currency_format(currency)
            for currency_id, currency in currencies.items()
        }
        level_ids = {row.level_id for rows in rows_by_action.values() for row in rows}
        level_names, legal_texts, result = {}, {}, {}
        for action in self:
            lang = action._followup_lang()
            formatter = ReminderFormatter.for_lang(self.env, lang)
            if lang not in level_names:
                lang_env = self.with_context(lang=lang).env
                level_names[lang] = {
                    level.id: level.name
                    for level in lang_env["followup.level"].browse(level_ids - {None})
                }
                legal_texts[lang] = _legal_texts(lang_env)
            rows = rows_by_action.get(action.id, [])
            result[action.id] = action._followup_display_values(
                rows,
                (currencies, money_formats),
                formatter,
                level_names[lang],
                legal_texts[lang],
                eur,
            )
            for line in result[action.id]["lines"]:
                line["pay_url"] = base_url + line["pay_url"]
            result[action.id].update(
                action._followup_payment_values(rows, currencies, formatter, base_url)
            )
        return result

    def _followup_display_rows(self):
        """{action id: [DisplayRow]}, in the order of the lines."""
        self.env["followup.history.line"].flush_model()
        self.env["account.move"].flush_model(
            [
                "name",
                "invoice_date",
                "payment_reference",
                "access_token",
                "partner_bank_id",
            ]
        )
        self._followup_ensure_access_tokens()
        self.env.cr.execute(
            """
            SELECT l.history_id, m.id, m.name, m.invoice_date, l.date_due,
                   m.payment_reference, l.level_id, l.currency_id,
                   l.amount_residual, l.amount_credit, l.interest_amount,
                   l.indemnity_amount, m.access_token, m.partner_bank_id
              FROM followup_history_line l
              JOIN account_move m ON m.id = l.move_id
             WHERE l.history_id = ANY(%s)
             ORDER BY l.history_id, l.date_due, l.move_id
            """,
            [self.ids],
        )
        rows_by_action = defaultdict(list)
        for action_id, *values in self.env.cr.fetchall():
            rows_by_action[action_id].append(DisplayRow(*values))
        return rows_by_action

    def _followup_ensure_access_tokens(self):
        """Give the reminded invoices the portal access token their payment
        links carry, in one statement (``get_portal_url`` writes them one by
        one), with the same kind of random token.

        Nothing is written when every invoice has its token: a letter printed
        through Odoo's report URLs (``/report/pdf/...``) runs on a read-only
        cursor. When some lack one there, the read-only transaction is refused
        as PostgreSQL refuses it, before the UPDATE: Odoo then serves the
        request again on a read/write cursor, and the UPDATE's failure no
        longer logs an error (a "bad query" with its traceback) at each print.
        """
        self.env.cr.execute(
            """
            SELECT 1
              FROM followup_history_line l
              JOIN account_move m ON m.id = l.move_id
             WHERE l.history_id = ANY(%s)
               AND m.access_token IS NULL
             LIMIT 1
            """,
            [self.ids],
        )
        if not self.env.cr.fetchone():
            return
        if self.env.cr.readonly:
            raise ReadOnlySqlTransaction(
                "the reminded invoices need their portal access tokens"
            )
        self.env.cr.execute(
            """
            UPDATE account_move m
               SET access_token = gen_random_uuid()::text
              FROM followup_history_line l
             WHERE l.move_id = m.id
               AND l.history_id = ANY(%s)
               AND m.access_token IS NULL
            RETURNING m.id
            """,
            [self.ids],
        )
        self.env["account.move"].browse(
            [move_id for (move_id,) in self.env.cr.fetchall()]
        ).invalidate_recordset(["access_token"])

    def _followup_display_values(  # noqa: PLR0913 - the batch's shared lookups
        self, rows, currency_data, formatter, level_names, texts, eur
    ):
        currencies, money_formats = currency_data
        totals = self._followup_display_totals(rows, currencies, formatter)
        claimed = [total["claimed"] for total in totals]
        credited = [total["credited"] for total in totals if total["has_credit"]]
        return {
            "lines": self._followup_display_lines(
                rows, money_formats, formatter, level_names
            ),
            "totals": totals,
            "claim": (
                texts["and"] % {"amounts": ", ".join(claimed[:-1]), "last": claimed[-1]}
                if len(claimed) > 1
                else (
                    claimed[0] if claimed else formatter.amount(0.0, self.currency_id)
                )
            ),
            "credit": texts["credit"] % {"credit": ", ".join(credited)}
            if credited
            else "",
            "legal": self._followup_legal_values(
                rows, currencies, formatter, texts, eur
            )
            if self.legal_regime
            else [],
        }

    def _followup_display_totals(self, rows, currencies, formatter):
        """Per currency, in the order of their codes: what is open, the credits
        deducted and what is claimed, formatted (see :meth:`_followup_totals`)."""
        return [
            {
                "currency": currency.name,
                "invoiced": formatter.amount(invoiced, currency),
                "credited": formatter.amount(credited, currency),
                "claimed": formatter.amount(claimed, currency),
                "has_credit": not currency.is_zero(credited),
            }
            for currency, (invoiced, credited, claimed) in sorted(
                totals_by_currency(
                    (
                        currencies[row.currency_id],
                        float(row.amount_residual or 0),
                        float(row.amount_credit or 0),
                    )
                    for row in rows
                ).items(),
                key=lambda item: item[0].name,
            )
        ]

    def _followup_display_lines(self, rows, money_formats, formatter, level_names):
        """Each reminded invoice as the customer reads it; its payment link is
        relative to the base URL (:meth:`_followup_display_batch` completes it)."""
        return [
            {
                "name": row.name,
                "invoice_date": formatter.date(row.invoice_date),
                "due_date": formatter.date(row.date_due),
                "days_overdue": days_overdue(row.date_due, self.date),
                "payment_reference": row.payment_reference or row.name,
                "level": level_names.get(row.level_id) or "",
                "amount_due": formatter.amount_in(
                    float(row.amount_residual or 0), money_formats[row.currency_id]
                ),
                "pay_url": (
                    f"/my/invoices/{row.move_id}?access_token={row.access_token}"
                ),
            }
            for row in rows
        ]

    def _followup_payment_values(self, rows, currencies, formatter, base_url):
        """How the customer pays what this reminder claims: its statement
        page, and per currency the bank account to transfer to, the
        communication to quote and Odoo's payment QR code for the amount."""
        rows_by_currency = defaultdict(list)
        for row in rows:
            rows_by_currency[row.currency_id].append(row)
        payments = []
        for currency_id, currency_rows in sorted(
            rows_by_currency.items(), key=lambda item: currencies[item[0]].name
        ):
            currency = currencies[currency_id]
            claimed = currency.round(
                sum(
                    float(row.amount_residual or 0) - float(row.amount_credit or 0)
                    for row in currency_rows
                )
            )
            if currency.compare_amounts(claimed, 0.0) <= 0:
                continue
            bank = self._followup_receiving_bank(currency, currency_rows)
            references = [row.payment_reference or row.name for row in currency_rows]
            communication = remittance_information(references, SEPA_REMITTANCE_MAX)
            # a structured reference (RF creditor reference…) only when the
            # transfer pays exactly one invoice; Odoo checks it is one
            structured = references[0] if len(references) == 1 else None
            qr_path = bank and bank.build_qr_code_url(
                claimed, communication, structured, currency, self.partner_id
            )
            payments.append(
                {
                    "currency": currency.name,
                    "amount": formatter.amount(claimed, currency),
                    "account_number": bank.acc_number or "",
                    "bic": bank.bank_bic or "",
                    "bank_name": bank.bank_name or "",
                    "holder": bank.acc_holder_name or bank.partner_id.name or "",
                    "communication": communication,
                    "qr_url": base_url + qr_path if qr_path else "",
                    "qr_path": qr_path or "",
                }
            )
        return {
            "statement_url": base_url
            + self.env["followup.statement"]._path(self.partner_id, self.company_id),
            "payments": payments,
        }

    def _followup_receiving_bank(self, currency, rows):
        """The company's bank account the customer pays ``currency`` into: the
        one its invoices name, else the company's account in that currency,
        else its account for any currency."""
        # sudo: whoever previews a reminder shows the company's bank details
        Bank = self.env["res.partner.bank"].sudo()
        named = Counter(row.partner_bank_id for row in rows if row.partner_bank_id)
        if named:
            return Bank.browse(named.most_common(1)[0][0])
        company = self.company_id
        banks = (
            company.partner_id.sudo()
            .bank_ids.filtered(
                lambda bank: bank.company_id in (company, company.browse())
            )
            .sorted("sequence")
        )
        return (
            banks.filtered(lambda bank: bank.currency_id == currency)[:1]
            or banks.filtered(lambda bank: not bank.currency_id)[:1]
        )

    def _followup_payments(self):
        """Per currency claimed: bank details, communication and QR code."""
        self.ensure_one()
        return self._followup_display()["payments"]

    def _followup_letter_qr_image(self, payment):
        """The image a letter prints for ``payment``'s QR code: drawn inline as
        an SVG, or, for a code Odoo draws with more than its modules (a mask),
        the path the PDF engine fetches from Odoo."""
        return qr_svg_data_uri(payment["qr_path"]) or payment["qr_path"]

    def _followup_statement_url(self):
        """The customer's statement page, opened with the link's token."""
        self.ensure_one()
        return self._followup_display()["statement_url"]

    def _followup_legal_values(self, rows, currencies, formatter, texts, eur):
        """The late-payment amounts per currency, with the indemnity's wording."""
        sums = {}
        for row in rows:
            interest, indemnity = sums.get(row.currency_id, (0.0, 0.0))
            sums[row.currency_id] = (
                interest + float(row.interest_amount or 0),
                indemnity + float(row.indemnity_amount or 0),
            )
        legal = []
        for currency_id, (interest, indemnity) in sums.items():
            currency = currencies[currency_id]
            label = (
                texts["indemnity"]
                if currency == eur
                else texts["indemnity_converted"]
                % {"currency": currency.name, "date": formatter.date(self.date)}
            )
            legal.append(
                {
                    "currency": currency.name,
                    "interest": formatter.amount(interest, currency),
                    "indemnity_label": label,
                    "indemnity": formatter.amount(indemnity, currency),
                }
            )
        return legal

    def _followup_legal_basis(self):
        """The sentence that states the law of the late-payment amounts."""
        self.ensure_one()
        env = self.with_context(lang=self._followup_lang()).env
        if self.legal_regime == legal.FRENCH_LAW:
            return env._(
                "Under articles L441-10 and D441-5 of the French Commercial Code, "
                "the following amounts are also due:"
            )
        if self.legal_regime == legal.EU_DIRECTIVE:
            return env._(
                "Under Directive 2011/7/EU on combating late payment in commercial "
                "transactions, as transposed in your country's law, the following "
                "amounts are also due:"
            )
        return ""
