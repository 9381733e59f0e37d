import logging
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.misc import format_date
from odoo.tools.pdf import merge_pdf

from ..services.planner import InvoiceRow, plan_actions
from ..services.status import ESCALATING

_logger = logging.getLogger(__name__)

#: actions performed per transaction; a crash loses at most one batch of work
DEFAULT_BATCH_SIZE = 500
#: customers planned together; planning holds one slice of invoices in memory
PLAN_PARTNER_SLICE = 1000
#: bus notification of runs that changed (see static/src/js/followup_run_list.js)
RUN_UPDATED = "receivables_followup/run_updated"


class FollowupRun(models.Model):
    """One day's follow-up of one company: its plan, its progress and its report.

    There is one run per company and date: running again the same day resumes the
    same run instead of planning a second one, which is what makes the run
    idempotent.
    """

    _name = "followup.run"
    _description = "Follow-up Run"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    date = fields.Date(required=True, index=True, readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    state = fields.Selection(
        [
            ("planned", "Planned"),
            ("running", "Running"),
            ("done", "Done"),
        ],
        default="planned",
        required=True,
        readonly=True,
    )
    history_ids = fields.One2many("followup.history", "run_id", readonly=True)
    planned_count = fields.Integer(readonly=True)
    done_count = fields.Integer(compute="_compute_counts")
    review_count = fields.Integer(compute="_compute_counts")
    failed_count = fields.Integer(compute="_compute_counts")
    covered_partner_count = fields.Integer(
        string="Customers Covered by Credits",
        readonly=True,
        help="Customers not reminded because their credits cover their overdue amount.",
    )
    below_minimum_count = fields.Integer(string="Held Back by Minimum", readonly=True)
    letter_count = fields.Integer(
        string="Letters", compute="_compute_letter_count", help="Letters of the day."
    )
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "company_date_uniq",
            "unique(company_id, date)",
            "A company has one follow-up run a day.",
        ),
    ]

    @api.depends("date", "company_id")
    def _compute_name(self):
        for run in self:
            run.name = _(
                "Follow-up of %(date)s (%(company)s)",
                date=run.date,
                company=run.company_id.name,
            )

    def _compute_counts(self):
        counts = {
            (run.id, state): count
            for run, state, count in self.env["followup.history"]._read_group(
                [("run_id", "in", self.ids)], ["run_id", "state"], ["__count"]
            )
        }
        for run in self:
            run.done_count = counts.get((run.id, "done"), 0)
            run.review_count = counts.get((run.id, "to_review"), 0)
            run.failed_count = counts.get((run.id, "failed"), 0)

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _cron_run_followup(self, batch_size=None):
        """Scheduled action: one unit of work per call, then report progress.

        A call either plans today's run of the companies that have none yet, or
        performs one batch of pending actions. Odoo's cron runner commits after each
        call and calls again while work remains: the plan is committed before anything
        is performed, a crash loses at most the batch in flight, and that batch left
        nothing behind (neither its history nor its emails).

        :returns: (done, remaining) as reported to ``ir.cron._notify_progress``
        """
        companies = self.env["res.company"].search([])
        planned = self._todays_runs(companies)
        new_runs = self._plan_companies(companies - planned.company_id, origin="cron")
        planned_count = sum(new_runs.mapped("planned_count"))
        if planned_count:
            done = planned_count
            remaining = self.env["followup.history"].search_count(
                [("state", "=", "pending"), ("company_id", "in", companies.ids)]
            )
        else:
            done, remaining = self._perform_pending(companies, batch_size=batch_size)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    @api.model
    def _replay_past_days(self, company_id, days_ago):
        """Run the follow-up of a company on past days, oldest first, as the
        daily run did on each: the demo data gives a new database a history
        (levels reached, reminders sent) this way.

        :param int company_id: the company
        :param days_ago: the days to replay, as numbers of days before today
        """
        company = self.env["res.company"].browse(company_id)
        today = company._followup_today()
        # a module's demo data loads before its installation's hook gives the
        # companies their default policy
        self.env["followup.policy"].sudo()._create_default_policies(company)
        # the planner reads the invoices in SQL: what the demo data just wrote
        # (their statuses among it) must be in the database first
        self.env.flush_all()
        for days in sorted(set(days_ago), reverse=True):
            if days <= 0:
                raise UserError(_("Only past days can be replayed."))
            self._plan_company(company, today - timedelta(days=days), "cron")
            remaining = True
            while remaining:
                done, remaining = self._perform_pending(company)
                if remaining and not done:
                    raise UserError(_("The follow-up made no progress."))

    def _letters_of_the_day(self):
        """The day's follow-up letters of the run's company, in the order the
        post room folds them: by customer."""
        self.ensure_one()
        actions = self.env["followup.history"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("date", "=", self.date),
                ("sent_letter", "=", True),
                ("attachment_id", "!=", False),
            ]
        )
        return actions.sorted(lambda action: (action.partner_id.name or "", action.id))

    def _compute_letter_count(self):
        for run in self:
            run.letter_count = len(run._letters_of_the_day()) if run.id else 0

    def action_print_letters(self):
        """One PDF of the day's letters, as they were produced, for the post
        room: each keeps its address placed for the windowed envelope."""
        self.ensure_one()
        actions = self._letters_of_the_day()
        # sudo: the letters are attachments of customers the user may read
        letters = actions.attachment_id.sudo().filtered(
            lambda attachment: attachment.mimetype == "application/pdf"
        )
        if not letters:
            raise UserError(
                _(
                    "No letter was produced on %(date)s.",
                    date=format_date(self.env, self.date),
                )
            )
        by_action = {action.attachment_id: action for action in actions}
        ordered = letters.sorted(lambda letter: actions.ids.index(by_action[letter].id))
        # sudo: runs are the engine's records, read-only to people; the merged
        # PDF is kept on the run, readable by whoever may read the run
        merged = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": _(
                        "Letters %(company)s %(date)s.pdf",
                        company=self.company_id.name,
                        date=self.date,
                    ),
                    "raw": merge_pdf([letter.raw for letter in ordered]),
                    "mimetype": "application/pdf",
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{merged.id}?download=true",
            "target": "self",
        }

    @api.model
    def action_run_followup(self):
        """ "Run Follow-up" menu: plan today's run of the user's selected companies.

        The plan is committed with this request; the scheduled action is triggered
        to perform it in batches, so no user request holds one long transaction
        over every reminder, and only the cron worker (which holds the cron lock)
        ever performs pending actions.
        """
        if not self.env.user.has_group("receivables_followup.group_followup_user"):
            raise AccessError(_("Only follow-up users can run the follow-up."))
        # sudo: runs and their actions are the engine's records, never written by
        # users; the user only asks for the companies it works in.
        runs = self.sudo()._plan_companies(self.env.companies, origin="manual")
        if runs.filtered(lambda run: run.state != "done"):
            # sudo: follow-up users may not read ir.cron; triggering only asks the
            # cron worker to run the follow-up job soon.
            self.env.ref("receivables_followup.ir_cron_followup_run").sudo()._trigger()
        return {
            "type": "ir.actions.act_window",
            "name": _("Follow-up Runs"),
            "res_model": "followup.run",
            "view_mode": "list,form",
            "domain": [("id", "in", runs.ids)],
        }

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------
    @api.model
    def _todays_runs(self, companies):
        """The runs of these companies dated their own follow-up day."""
        if not companies:
            return self.browse()
        domain = expression.OR(
            [
                [("company_id", "=", company.id), ("date", "=", day)]
                for company, day in companies._followup_days().items()
            ]
        )
        return self.search(domain)

    @api.model
    def _plan_companies(self, companies, origin="cron"):
        """Plan the run of each company that has none for its follow-up day;
        return the runs of the day."""
        runs = self._todays_runs(companies)
        for company in companies - runs.company_id:
            runs |= self._plan_company(company, company._followup_today(), origin)
        return runs

    @api.model
    def _plan_company(self, company, today, origin):
        """Plan today's run of ``company``, a slice of customers at a time.

        Each slice is read, planned and stored with a few set-based statements and
        then dropped, so planning holds at most one slice of invoices in memory
        whatever the number of invoices. A customer's invoices are always planned
        together: its net position and its grouping per level need all of them.
        """
        moves = self.env["account.move"]
        moves._followup_refresh_statuses([company.id], today)
        run = self.create(
            {
                "company_id": company.id,
                "date": today,
                "state": "planned",
                "started_at": fields.Datetime.now(),
            }
        )
        default_policy = self.env["followup.policy"]._default_for_company(company)
        policies = self.env["followup.policy"].search([("company_id", "=", company.id)])
        levels = policies._engine_levels()
        formal_level_ids = set(policies.level_ids.filtered("is_formal_notice").ids)
        letter_level_ids = set(policies.level_ids.filtered("print_letter").ids)
        digits = {
            currency.id: currency.decimal_places
            for currency in self.env["res.currency"].search([])
        }
        History = self.env["followup.history"]
        run_id = run.id
        planned = covered = below_minimum = 0
        for partner_ids in self._planning_partner_slices(company, today):
            rows, manual_partners = self._planning_rows(
                company, today, partner_ids, default_policy.id
            )
            credits, credits_by_currency = self._partner_credits(company, partner_ids)
            plan = plan_actions(
                today,
                rows,
                levels,
                credits=credits,
                manual_partners=manual_partners,
                credits_by_currency=credits_by_currency,
                digits=digits,
            )
            History._hold_letters_without_address(plan, letter_level_ids)
            History._create_from_plan(
                company,
                today,
                self.browse(run_id),
                plan,
                origin,
                History._legal_amounts_of_plan(
                    company, today, plan, rows, formal_level_ids
                ),
            )
            # The invoices of the planned actions have their next date written
            # with the action: when it is performed, or marked for review.
            in_actions = {
                move_id for action in plan.actions for move_id in action.invoice_ids
            }
            moves._followup_write_next_dates(
                {
                    move_id: day
                    for move_id, day in plan.next_dates.items()
                    if move_id not in in_actions
                }
            )
            planned += len(plan.actions)
            covered += len(plan.skipped_covered)
            below_minimum += plan.below_minimum
            # Nothing of a slice is needed once it is stored.
            self.env.invalidate_all()
        run = self.browse(run_id)
        run.write(
            {
                "planned_count": planned,
                "covered_partner_count": covered,
                "below_minimum_count": below_minimum,
                "state": "running" if planned else "done",
                "finished_at": False if planned else fields.Datetime.now(),
            }
        )
        _logger.info(
            "Follow-up of %s for company %s: %s actions planned",
            today,
            company.id,
            planned,
        )
        return run

    @api.model
    def _send_next_now(self, company, partners):
        """Plan and perform now the next reminder of ``partners`` in
        ``company``: each overdue invoice takes its next level whatever its
        delay, in one message per customer as the daily run sends it. A level
        that needs a person waits for review; a customer already waiting for a
        reminder, or whose credits cover what it owes, gets nothing.

        :returns: the follow-up actions created
        """
        today = company._followup_today()
        self.env["account.move"]._followup_refresh_statuses([company.id], today)
        default_policy = self.env["followup.policy"]._default_for_company(company)
        policies = self.env["followup.policy"].search([("company_id", "=", company.id)])
        rows, manual_partners = self._planning_rows(
            company, today, partners.ids, default_policy.id
        )
        credits, credits_by_currency = self._partner_credits(company, partners.ids)
        plan = plan_actions(
            today,
            rows,
            policies._engine_levels(),
            credits=credits,
            manual_partners=manual_partners,
            credits_by_currency=credits_by_currency,
            digits={
                currency.id: currency.decimal_places
                for currency in self.env["res.currency"].search([])
            },
            now_partners=set(partners.ids),
        )
        History = self.env["followup.history"]
        History._hold_letters_without_address(
            plan, set(policies.level_ids.filtered("print_letter").ids)
        )
        actions = History._create_from_plan(
            company,
            today,
            self.browse(),
            plan,
            "manual",
            History._legal_amounts_of_plan(
                company,
                today,
                plan,
                rows,
                set(policies.level_ids.filtered("is_formal_notice").ids),
            ),
        )
        actions.filtered(lambda action: action.state == "pending")._perform(
            origin="manual"
        )
        return actions

    @api.model
    def _planning_filter(self, company, today):
        """The invoices of ``company`` that may escalate on ``today``: a WHERE
        clause on ``account_move m``.

        A customer with a reminder still pending or waiting for review is left
        out whole: one message per customer at a time, and a person deciding on
        a formal notice does not want a friendly reminder to go out beside it.
        """
        return SQL(
            """
                m.company_id = %(company)s
            AND m.move_type IN ('out_invoice', 'out_receipt')
            AND m.state = 'posted'
            AND m.payment_state IN ('not_paid', 'partial')
            AND m.followup_status IN %(statuses)s
            AND m.invoice_date_due < %(today)s
            AND NOT EXISTS (
                 SELECT 1
                   FROM followup_history h
                  WHERE h.partner_id = m.commercial_partner_id
                    AND h.company_id = m.company_id
                    AND h.state IN ('pending', 'to_review'))
            """,
            company=company.id,
            statuses=ESCALATING,
            today=today,
        )

    @api.model
    def _planning_partner_slices(self, company, today):
        """Yield the customers with invoices that may escalate, by slices."""
        self.env["account.move"].flush_model()
        self.env["followup.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT m.commercial_partner_id
                  FROM account_move m
                 WHERE %s
                 ORDER BY 1
                """,
                self._planning_filter(company, today),
            )
        )
        partner_ids = [partner_id for (partner_id,) in self.env.cr.fetchall()]
        for start in range(0, len(partner_ids), PLAN_PARTNER_SLICE):
            yield partner_ids[start : start + PLAN_PARTNER_SLICE]

    @api.model
    def _planning_rows(self, company, today, partner_ids, default_policy_id):
        """Read, in one query, these customers' open overdue invoices that may
        escalate; return (rows, customers excluded from automatic follow-up)."""
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model()
        self.env["followup.history"].flush_model()
        company_key = str(company.id)
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id,
                       m.commercial_partner_id,
                       m.invoice_date_due,
                       m.amount_residual_signed
                         - COALESCE(m.followup_disputed_amount, 0)
                           * CASE WHEN m.amount_total <> 0
                                  THEN m.amount_total_signed / m.amount_total
                                  ELSE 1 END,
                       m.currency_id,
                       m.amount_residual - COALESCE(m.followup_disputed_amount, 0),
                       COALESCE(m.followup_level_id, 0),
                       m.followup_last_date,
                       m.followup_resume_date,
                       m.followup_postponed_to,
                       (p.collection_policy_id ->> %(company_key)s)::int,
                       COALESCE((p.collection_no_auto ->> %(company_key)s)::boolean,
                                false)
                  FROM account_move m
                  JOIN res_partner p ON p.id = m.commercial_partner_id
                 WHERE m.commercial_partner_id = ANY(%(partners)s)
                   AND %(escalating)s
                """,
                company_key=company_key,
                partners=list(partner_ids),
                escalating=self._planning_filter(company, today),
            )
        )
        rows, manual_partners = [], set()
        for (
            move_id,
            partner_id,
            due_date,
            residual,
            currency_id,
            residual_currency,
            level_id,
            last_date,
            resumed_on,
            postponed_to,
            policy_id,
            no_auto,
        ) in self.env.cr.fetchall():
            policy_id = policy_id or default_policy_id
            if not policy_id:
                continue
            if no_auto:
                manual_partners.add(partner_id)
            rows.append(
                InvoiceRow(
                    id=move_id,
                    partner_id=partner_id,
                    policy_id=policy_id,
                    due_date=due_date,
                    residual=float(residual),
                    currency_id=currency_id,
                    residual_currency=float(residual_currency),
                    level_id=level_id,
                    last_action_date=last_date,
                    resumed_on=resumed_on,
                    not_before=postponed_to,
                )
            )
        return rows, manual_partners

    @api.model
    def _partner_credits(self, company, partner_ids):
        """Unreconciled credits (credit notes, payments) of these customers,
        positive: ({partner: amount in company currency}, {partner: {currency:
        (amount in that currency, amount in company currency)}})."""
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT p.commercial_partner_id, l.currency_id,
                   -SUM(l.amount_residual_currency), -SUM(l.amount_residual)
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE l.company_id = %s
               AND p.commercial_partner_id = ANY(%s)
               AND a.account_type = 'asset_receivable'
               AND l.parent_state = 'posted'
               AND NOT l.reconciled
               AND l.amount_residual < 0
             GROUP BY p.commercial_partner_id, l.currency_id
            """,
            [company.id, list(partner_ids)],
        )
        totals, by_currency = {}, {}
        for partner_id, currency_id, amount, amount_company in self.env.cr.fetchall():
            totals[partner_id] = totals.get(partner_id, 0.0) + float(amount_company)
            by_currency.setdefault(partner_id, {})[currency_id] = (
                float(amount),
                float(amount_company),
            )
        return totals, by_currency

    # ------------------------------------------------------------------
    # Performing
    # ------------------------------------------------------------------
    @api.model
    def _perform_pending(self, companies, batch_size=None, origin="cron"):
        """Perform one batch of pending actions; return (done, remaining).

        The batch runs in a savepoint. When it raises, it is rolled back and its
        actions are performed one by one, each in its own savepoint: the ones that
        still fail are marked failed (their invoices are planned again on the next
        day's run) instead of blocking the queue forever. Database concurrency errors
        are not caught: the whole call is retried by the cron runner.
        """
        batch_size = batch_size or int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("receivables_followup.batch_size", DEFAULT_BATCH_SIZE)
        )
        History = self.env["followup.history"]
        domain = [("state", "=", "pending"), ("company_id", "in", companies.ids)]
        batch = History.search(domain, limit=batch_size, order="id")
        if batch:
            try:
                with self.env.cr.savepoint():
                    batch._perform(origin=origin)
            except psycopg2.OperationalError:
                raise
            except Exception:
                _logger.exception("Follow-up batch failed; retrying action by action")
                self.env.invalidate_all()
                for action in batch.exists():
                    action._perform_isolated(origin)
        remaining = History.search_count(domain)
        if not remaining:
            finished = self.search(
                [("company_id", "in", companies.ids), ("state", "!=", "done")]
            )
            finished.write({"state": "done", "finished_at": fields.Datetime.now()})
            finished._notify_updated()
        return len(batch), remaining

    def _notify_updated(self):
        """Tell the follow-up users' open screens that these runs changed, so
        that a runs list showing "Running" refreshes itself when they finish.
        The message leaves with the transaction's commit, never before."""
        if self:
            self.env["bus.bus"]._sendone(
                self.env.ref("receivables_followup.group_followup_user"),
                RUN_UPDATED,
                {"run_ids": self.ids},
            )
