from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.misc import format_date, formatLang

from ..services import kpi
from ..services.status import PAUSED_ANSWERED, PAUSED_PROMISE

FOLLOWUP_USER = "receivables_followup.group_followup_user"
FOLLOWUP_MANAGER = "receivables_followup.group_followup_manager"
#: months of sales the DSO countback may go back through: the choices, and the
#: default
DSO_PERIODS = (3, 6, 12)
DSO_MONTHS = 12
#: how far ahead a promise to pay counts as falling due
PROMISE_HORIZON_DAYS = 7
#: the follow-up's own activity types (the levels' come on top)
ACTIVITY_TYPES = (
    "receivables_followup.mail_activity_type_followup_call",
    "receivables_followup.mail_activity_type_customer_answered",
    "receivables_followup.mail_activity_type_promise_check",
    "receivables_followup.mail_activity_type_dispute_review",
)
#: days back the promises kept and broken are counted over
PROMISE_PERIOD_DAYS = 90
#: agency case states that wait for the company
CASE_OPEN_STATES = ("queued", "submitted", "needs_details", "active", "paused")
#: the cards of today's work, in the order the overview shows them
CARD_ORDER = (
    "review",
    "activities",
    "answered",
    "promises_due",
    "promises_broken",
    "disputes_late",
    "agency",
    "failed",
)


class FollowupOverview(models.AbstractModel):
    """The credit controller's front door: today's work as cards, each a click
    away from its list, and the receivables' key figures with their
    definitions, for the current company.

    Every count goes through the ORM's ``search_count``/``_read_group`` as the
    user (record rules apply); the ageing and the sales of the DSO are two
    SQL statements over the journal items, which a 100,000-invoice ledger
    answers in milliseconds.
    """

    _name = "followup.overview"
    _description = "Follow-up: Overview"

    @api.model
    def get_overview(self, scope="mine", dso_months=DSO_MONTHS):
        """Cards and key figures for the OWL overview.

        :param str scope: ``mine`` (the customers, disputes and activities the
            user is responsible for) or ``everyone`` (managers only)
        :param int dso_months: the months of sales the DSO countback may go
            back through (one of ``DSO_PERIODS``)
        """
        if not self.env.user.has_group(FOLLOWUP_USER):
            raise AccessError(
                self.env._("The follow-up overview is for follow-up users.")
            )
        is_manager = self.env.user.has_group(FOLLOWUP_MANAGER)
        if scope != "everyone" or not is_manager:
            scope = "mine"
        if dso_months not in DSO_PERIODS:
            dso_months = DSO_MONTHS
        company = self.env.company
        today = company._followup_today()
        return {
            "scope": scope,
            "dso_months": dso_months,
            "dso_periods": list(DSO_PERIODS),
            "is_manager": is_manager,
            "company": company.name,
            "today": format_date(self.env, today),
            "cards": self._cards(company, today, scope == "mine"),
            "kpis": self._kpis(company, today, dso_months),
        }

    # ------------------------------------------------------------------
    # Today's work
    # ------------------------------------------------------------------
    def _cards(self, company, today, mine):
        """The cards of today's work, in ``CARD_ORDER``: each a count of
        records as the user and the action that lists them."""
        uid = self.env.uid

        def only_mine(path):
            return [(path, "=", uid)] if mine else []

        specs = (
            self._card_specs_reminders(company, only_mine)
            + self._card_specs_activities(company, today, only_mine)
            + self._card_specs_invoices(company, today, only_mine)
            + self._card_specs_cases(company, today, only_mine)
        )
        invoice_list = self.env.ref("account.view_out_invoice_tree").id
        return [
            self._card(*spec, invoice_list=invoice_list)
            for spec in sorted(specs, key=lambda spec: CARD_ORDER.index(spec[0]))
        ]

    def _card(self, key, title, help_text, model, domain, invoice_list):
        """A card: the count of ``model``'s records in ``domain`` (0 if the
        user may not read them) and the action that lists them."""
        Model = self.env[model]
        count = Model.search_count(domain) if Model.has_access("read") else 0
        list_view = invoice_list if model == "account.move" else False
        return {
            "key": key,
            "title": title,
            "help": help_text,
            "count": count,
            "action": {
                "type": "ir.actions.act_window",
                "name": title,
                "res_model": model,
                "domain": domain,
                "views": [[list_view, "list"], [False, "form"]],
                "target": "current",
            },
        }

    def _card_specs_reminders(self, company, only_mine):
        """The reminders waiting for a person: to review, and failed."""
        _ = self.env._
        reminders = [("company_id", "=", company.id)]
        mine = only_mine("partner_id.collection_user_id")
        return [
            (
                "review",
                _("Reminders to review"),
                _("Reminders a person must send, change, skip or postpone."),
                "followup.history",
                reminders + [("state", "=", "to_review")] + mine,
            ),
            (
                "failed",
                _("Failed actions"),
                _("Reminders that could not be sent: fix and retry."),
                "followup.history",
                reminders + [("state", "=", "failed")] + mine,
            ),
        ]

    def _card_specs_activities(self, company, today, only_mine):
        """The follow-up's activities due, and the promise checks late."""
        _ = self.env._
        activity_types = self._activity_types(company)
        promise_check = self.env.ref(
            "receivables_followup.mail_activity_type_promise_check"
        )
        return [
            (
                "activities",
                _("Activities due"),
                _("Calls, letters to post, answers to read: due today or late."),
                "mail.activity",
                [
                    ("activity_type_id", "in", activity_types.ids),
                    ("date_deadline", "<=", today),
                ]
                + only_mine("user_id"),
            ),
            (
                "promises_broken",
                _("Promises to check"),
                _("Promised dates passed: check the payment came."),
                "mail.activity",
                [
                    ("activity_type_id", "=", promise_check.id),
                    ("date_deadline", "<", today),
                ]
                + only_mine("user_id"),
            ),
        ]

    def _card_specs_invoices(self, company, today, only_mine):
        """The invoices held by their customer's word: an answer to read, a
        promise to pay falling due."""
        _ = self.env._
        invoices = [
            ("company_id", "=", company.id),
            ("move_type", "in", ("out_invoice", "out_receipt")),
        ]
        mine = only_mine("commercial_partner_id.collection_user_id")
        return [
            (
                "answered",
                _("Customers who answered"),
                _("Invoices held while their customer's answer is read."),
                "account.move",
                invoices + [("followup_status", "=", PAUSED_ANSWERED)] + mine,
            ),
            (
                "promises_due",
                _("Promises falling due"),
                _("Invoices promised to be paid within the next week."),
                "account.move",
                invoices
                + [
                    ("followup_status", "=", PAUSED_PROMISE),
                    (
                        "followup_promise_date",
                        "<=",
                        today + timedelta(days=PROMISE_HORIZON_DAYS),
                    ),
                ]
                + mine,
            ),
        ]

    def _card_specs_cases(self, company, today, only_mine):
        """The disputes whose answer is late, and the agency cases that wait
        for the company."""
        _ = self.env._
        return [
            (
                "disputes_late",
                _("Disputes past their deadline"),
                _("Open disputes whose answer is late."),
                "followup.dispute",
                [
                    ("company_id", "=", company.id),
                    ("state", "in", ("open", "under_review")),
                    ("date_deadline", "<", today),
                ]
                + only_mine("user_id"),
            ),
            (
                "agency",
                _("Agency cases needing you"),
                _("The agency asks for information, or a request to it failed."),
                "followup.agency.case",
                [
                    ("company_id", "=", company.id),
                    ("state", "in", CASE_OPEN_STATES),
                    "|",
                    ("needs_info", "=", True),
                    ("request_ids.state", "=", "failed"),
                ]
                + only_mine("user_id"),
            ),
        ]

    def _activity_types(self, company):
        types = self.env["mail.activity.type"]
        for xmlid in ACTIVITY_TYPES:
            types |= self.env.ref(xmlid)
        # sudo: the levels' activity types, whoever configured them
        levels = (
            self.env["followup.level"]
            .sudo()
            .search(
                [
                    ("policy_id.company_id", "=", company.id),
                    ("create_activity", "=", True),
                ]
            )
        )
        return types | levels.activity_type_id

    # ------------------------------------------------------------------
    # Key figures
    # ------------------------------------------------------------------
    def _kpis(self, company, today, dso_months):
        """The receivables' key figures in the company's currency, each with
        its definition."""
        currency = company.currency_id

        def money(amount):
            return formatLang(self.env, amount, currency_obj=currency)

        aging = self._aging(company, today)
        receivable = sum(aging.values())
        return {
            "figures": [
                *self._kpi_receivable(aging, receivable, money),
                self._kpi_dso(company, today, dso_months, receivable),
                *self._kpi_promises(company, today, money),
                self._kpi_disputes(company, money),
                self._kpi_agencies(company, money),
            ],
            "buckets": self._kpi_buckets(aging, receivable, money),
            "levels": self._overdue_by_level(company, today, money),
        }

    def _kpi_receivable(self, aging, receivable, money):
        """The total receivable and its overdue part, from the ageing."""
        _ = self.env._
        overdue = receivable - aging.get("not_due", 0.0)
        return [
            {
                "key": "receivable",
                "label": _("Total receivable"),
                "value": money(receivable),
                "definition": _(
                    "The open balance of the receivable accounts: invoices "
                    "less payments and credit notes not yet matched."
                ),
            },
            {
                "key": "overdue",
                "label": _("Overdue"),
                "value": money(overdue),
                "share": round(kpi.share(overdue, receivable), 1),
                "definition": _("The part of the receivables past its due date."),
            },
        ]

    def _kpi_dso(self, company, today, dso_months, receivable):
        """The days of sales outstanding (countback) over ``dso_months``."""
        _ = self.env._
        dso = kpi.dso_countback(
            receivable, self._monthly_sales(company, today, dso_months)
        )
        return {
            "key": "dso",
            "label": _("DSO (countback)"),
            "value": _("%(days)s days", days=round(dso))
            if dso is not None
            else _("over %(months)s months", months=dso_months),
            "definition": _(
                "Days of sales outstanding, countback method: today's "
                "receivables matched against the sales of this month, then "
                "of each month before, until used up (last %(months)s "
                "months).",
                months=dso_months,
            ),
        }

    def _kpi_promises(self, company, today, money):
        """The amount promised to pay, and the promises kept and broken over
        the last ``PROMISE_PERIOD_DAYS`` days."""
        _ = self.env._
        promised = self._invoice_sum(
            company, [("followup_status", "=", PAUSED_PROMISE)]
        )
        closed_promises = dict(
            self.env["followup.promise"]._read_group(
                [
                    ("company_id", "=", company.id),
                    ("state", "in", ("kept", "broken")),
                    ("date_closed", ">", today - timedelta(days=PROMISE_PERIOD_DAYS)),
                ],
                ["state"],
                ["amount_company:sum"],
            )
        )
        kept = closed_promises.get("kept", 0.0)
        broken = closed_promises.get("broken", 0.0)
        return [
            {
                "key": "promised",
                "label": _("Promised to pay"),
                "value": money(promised),
                "definition": _(
                    "The open amount of the invoices paused by a promise to pay."
                ),
            },
            {
                "key": "promises_kept",
                "label": _("Promises kept"),
                "value": money(kept),
                "share": round(kpi.share(kept, kept + broken), 1),
                "share_label": _("of the promises closed"),
                "detail": _("%(broken)s broken", broken=money(broken)),
                "definition": _(
                    "Promises to pay closed over the last %(days)s days: kept "
                    "when the invoice was paid by the promised date, broken when "
                    "the date passed unpaid (amounts promised).",
                    days=PROMISE_PERIOD_DAYS,
                ),
            },
        ]

    def _kpi_disputes(self, company, money):
        """The amount of the open disputes, their count and average age."""
        _ = self.env._
        open_disputes = [
            ("company_id", "=", company.id),
            ("state", "in", ("open", "under_review")),
        ]
        amount, count = self.env["followup.dispute"]._read_group(
            open_disputes, [], ["amount_disputed:sum", "__count"]
        )[0]
        age = self.env["followup.dispute.aging"]._read_group(
            open_disputes, [], ["age_days:avg"]
        )[0][0]
        return {
            "key": "disputed",
            "label": _("Disputed"),
            "value": money(amount or 0.0),
            "detail": _(
                "%(count)s open, %(age)s days old on average",
                count=count,
                age=round(age or 0),
            ),
            "definition": _(
                "The amount of the open disputes, and how long they have been open."
            ),
        }

    def _kpi_agencies(self, company, money):
        """What the agencies still pursue and recovered, per currency of the
        cases."""
        _ = self.env._
        cases = self.env["followup.agency.case"]._read_group(
            [("company_id", "=", company.id)],
            ["currency_id"],
            ["amount_remaining:sum", "amount_collected:sum"],
        )
        return {
            "key": "agencies",
            "label": _("At agencies / recovered"),
            "value": ", ".join(
                _(
                    "%(remaining)s / %(collected)s",
                    remaining=formatLang(
                        self.env, remaining, currency_obj=case_currency
                    ),
                    collected=formatLang(
                        self.env, collected, currency_obj=case_currency
                    ),
                )
                for case_currency, remaining, collected in cases
            )
            or money(0.0),
            "definition": _(
                "What the collection agencies still pursue, and what they "
                "recovered, in the currency of the cases."
            ),
        }

    def _kpi_buckets(self, aging, receivable, money):
        """The open receivable per age bucket, with its share of the total."""
        _ = self.env._
        bucket_labels = {
            "not_due": _("Not due"),
            "1_30": _("1-30 days"),
            "31_60": _("31-60 days"),
            "61_90": _("61-90 days"),
            "91_plus": _("Over 90 days"),
        }
        return [
            {
                "key": bucket,
                "label": bucket_labels[bucket],
                "value": money(aging.get(bucket, 0.0)),
                "share": round(kpi.share(aging.get(bucket, 0.0), receivable), 1),
            }
            for bucket, _first, _last in kpi.AGE_BUCKETS
        ]

    def _aging(self, company, today):
        """{bucket: open receivable amount} in the company's currency, from the
        receivable journal items (payments and credit notes included)."""
        self.env["account.move.line"].flush_model(
            ["amount_residual", "reconciled", "date_maturity", "parent_state"]
        )
        cases = SQL(" ").join(
            SQL(
                "WHEN %s - COALESCE(l.date_maturity, l.date) <= %s THEN %s",
                today,
                last,
                bucket,
            )
            for bucket, _first, last in kpi.AGE_BUCKETS
            if last is not None
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT CASE %s ELSE %s END AS bucket, SUM(l.amount_residual)
                  FROM account_move_line l
                  JOIN account_account a ON a.id = l.account_id
                 WHERE l.company_id = %s
                   AND l.parent_state = 'posted'
                   AND a.account_type = 'asset_receivable'
                   AND NOT l.reconciled
                 GROUP BY 1
                """,
                cases,
                kpi.AGE_BUCKETS[-1][0],
                company.id,
            )
        )
        return {
            bucket: float(amount or 0.0) for bucket, amount in self.env.cr.fetchall()
        }

    def _monthly_sales(self, company, today, months):
        """``(days, sales)`` of this month so far and of each of the months
        before, most recent first: invoices less credit notes, taxes included
        (as the receivables are), in the company's currency."""
        start = today.replace(day=1) - relativedelta(months=months - 1)
        self.env["account.move"].flush_model(
            ["amount_total_signed", "invoice_date", "move_type", "state"]
        )
        self.env.cr.execute(
            """
            SELECT date_trunc('month', invoice_date)::date, SUM(amount_total_signed)
              FROM account_move
             WHERE company_id = %s
               AND state = 'posted'
               AND move_type IN ('out_invoice', 'out_refund', 'out_receipt')
               AND invoice_date BETWEEN %s AND %s
             GROUP BY 1
            """,
            [company.id, start, today],
        )
        sales = {
            month: float(amount or 0.0) for month, amount in self.env.cr.fetchall()
        }
        periods, month = [], today.replace(day=1)
        for _index in range(months):
            end = (
                today
                if month == today.replace(day=1)
                else (month + relativedelta(months=1) - timedelta(days=1))
            )
            periods.append(((end - month).days + 1, sales.get(month, 0.0)))
            month -= relativedelta(months=1)
        return periods

    def _invoice_sum(self, company, domain):
        result = self.env["account.move"]._read_group(
            [
                ("company_id", "=", company.id),
                ("move_type", "in", ("out_invoice", "out_receipt")),
                ("state", "=", "posted"),
            ]
            + domain,
            [],
            ["amount_residual_signed:sum"],
        )
        return result[0][0] or 0.0

    def _overdue_by_level(self, company, today, money):
        groups = self.env["account.move"]._read_group(
            [
                ("company_id", "=", company.id),
                ("move_type", "in", ("out_invoice", "out_receipt")),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
            ],
            ["followup_level_id"],
            ["amount_residual_signed:sum", "__count"],
        )
        no_level = self.env._("No reminder yet")
        return [
            {
                "label": level.name or no_level,
                "value": money(amount or 0.0),
                "count": count,
            }
            for level, amount, count in sorted(
                groups, key=lambda group: (group[0].delay if group[0] else -1)
            )
        ]
