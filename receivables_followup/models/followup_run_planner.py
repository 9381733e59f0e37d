import logging

import psycopg2

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from ..services.planner import InvoiceRow, plan_actions
from ..services.status import ESCALATING

_logger = logging.getLogger(__name__)

#: customers planned together (``receivables_followup.plan_slice``): planning
#: holds one slice of invoices in memory, and each slice is a call of its own
PLAN_PARTNER_SLICE = 1000
#: the advisory lock (with the company's id) of starting a company's run
RUN_START_LOCK = 0x52464655
#: what the follow-up's scheduled actions run, one per cron worker
FOLLOWUP_JOB_CODE = "model._cron_run_followup()"


def _invoice_rows(fetched, default_policy_id):
    """The planner's rows of the invoices fetched by ``_planning_rows``, and
    the customers excluded from automatic follow-up among them; an invoice
    whose customer has no policy (and the company none) is left out."""
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
    ) in fetched:
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


class FollowupRunPlanner(models.AbstractModel):
    """Planning a follow-up run, inherited by ``followup.run``: starting the
    day's run of each company, taking a run to plan (one worker per run),
    planning its customers slice after slice with ``services.planner`` over
    one batched read of their invoices and credits, storing the actions, and
    waking the cron workers that perform them. Where a run's planning stands
    is stored apart, on ``followup.run.planning``."""

    _name = "followup.run.planner"
    _description = "Follow-up Run: Planning"

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
    def _start_todays_runs(self, companies):
        """Today's runs of ``companies``, started for those that have none
        (unless another worker is starting it)."""
        runs = self._todays_runs(companies)
        for company in companies - runs.company_id:
            runs |= self._start_run(company, company._followup_today())
        return runs

    @api.model
    def _plan_companies(self, companies, origin="cron"):
        """Plan the whole run of each company that has none for its follow-up
        day, in this transaction; return the runs of the day."""
        runs = self._todays_runs(companies)
        for company in companies - runs.company_id:
            runs |= self._plan_company(company, company._followup_today(), origin)
        return runs

    @api.model
    def _plan_company(self, company, today, origin):
        """Plan the whole run of ``company`` on ``today``, slice after slice."""
        run = self._start_run(company, today)
        while run.state == "planned":
            run._plan_next_slice(origin)
        return run

    @api.model
    def _start_run(self, company, today):
        """Start the run of ``company`` on ``today``, to be planned; an empty
        recordset when another worker started it meanwhile (the run is unique
        per company and day)."""
        # one worker starts a company's run, the others go on with what is
        # planned; the unique key catches a worker whose snapshot predates a run
        # started and committed by another
        self.env.cr.execute(
            SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", RUN_START_LOCK, company.id)
        )
        if not self.env.cr.fetchone()[0]:
            return self.browse()
        self.env["account.move"]._followup_refresh_statuses([company.id], today)
        try:
            with self.env.cr.savepoint():
                run = self.create(
                    {
                        "company_id": company.id,
                        "date": today,
                        "state": "planned",
                        "started_at": fields.Datetime.now(),
                    }
                )
                self.env["followup.run.planning"].create({"run_id": run.id})
                return run
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.SerializationFailure):
            return self.browse()

    def _lock_for_planning(self):
        """The first of these runs still to plan that no other worker is
        planning, its planning row locked for this transaction; an empty
        recordset when each is held (``SKIP LOCKED``: a worker never waits for
        another, it performs what is planned instead) or when another worker
        planned a slice since this transaction began (its snapshot would plan
        that slice again)."""
        if not self:
            return self
        self.flush_recordset()
        self.env["followup.run.planning"].flush_model()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                        SELECT p.run_id
                          FROM followup_run_planning p
                          JOIN followup_run r ON r.id = p.run_id
                         WHERE p.run_id IN %s AND r.state = 'planned'
                         ORDER BY p.run_id
                         LIMIT 1
                           FOR UPDATE OF p SKIP LOCKED
                        """,
                        tuple(self.ids),
                    )
                )
                row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            return self.browse()
        run = self.browse(row[0] if row else [])
        run.invalidate_recordset()
        run.planning_ids.invalidate_recordset()
        return run

    def _plan_next_slice(self, origin="cron"):
        """Plan the next slice of customers of this run and store it; the run
        is running (or done) when no customer is left. Returns the numbers of
        customers examined and of actions planned.

        The slice is read, planned and stored with a few set-based statements
        and then dropped: planning holds at most one slice of invoices in memory
        whatever the number of invoices. A customer's invoices are always
        planned together: its net position and its grouping per level need all
        of them.
        """
        self.ensure_one()
        company, today = self.company_id, self.date
        planning = self.planning_ids[:1] or self.env["followup.run.planning"].create(
            {"run_id": self.id}
        )
        partner_ids, more = self._planning_partner_slice(
            company, today, planning.last_partner_id
        )
        planned = covered = below_minimum = 0
        if partner_ids:
            planned, covered, below_minimum = self._plan_partners(partner_ids, origin)
        # written even for an empty slice: a worker whose snapshot predates
        # this call then fails to lock the row instead of planning it again
        planning.write(
            {
                "last_partner_id": partner_ids[-1]
                if partner_ids
                else planning.last_partner_id,
                "planned_count": planning.planned_count + planned,
                "covered_partner_count": planning.covered_partner_count + covered,
                "below_minimum_count": planning.below_minimum_count + below_minimum,
            }
        )
        if not more:
            self._end_planning(planning)
        return len(partner_ids), planned

    def _end_planning(self, planning):
        """Close this run's planning, whose last slice was just stored: the
        run's own row takes the totals of ``planning`` and starts running (or
        is done when nothing was planned)."""
        # the run's own row is written once, when its planning ends
        total = planning.planned_count
        self.write(
            {
                "planned_count": total,
                "covered_partner_count": planning.covered_partner_count,
                "below_minimum_count": planning.below_minimum_count,
                "state": "running" if total else "done",
                "finished_at": False if total else fields.Datetime.now(),
            }
        )
        _logger.info(
            "Follow-up of %s for company %s: %s actions planned",
            self.date,
            self.company_id.id,
            total,
        )

    def _plan_partners(self, partner_ids, origin):
        """Plan and store this run's actions for ``partner_ids``; return the
        numbers of actions planned, of customers covered by their credits and
        of customers held back by the minimum amount."""
        plan, _actions = self._plan_and_store(
            self.company_id, self.date, partner_ids, origin
        )
        # The invoices of the planned actions have their next date written with
        # the action: when it is performed, or marked for review.
        in_actions = {
            move_id for action in plan.actions for move_id in action.invoice_ids
        }
        self.env["account.move"]._followup_write_next_dates(
            {
                move_id: day
                for move_id, day in plan.next_dates.items()
                if move_id not in in_actions
            }
        )
        # Nothing of a slice is needed once it is stored.
        self.env.invalidate_all()
        return len(plan.actions), len(plan.skipped_covered), plan.below_minimum

    def _plan_and_store(self, company, today, partner_ids, origin, now_partners=()):
        """Plan the actions of ``partner_ids`` in ``company`` on ``today`` (for
        this run, or none) and create them: (plan, actions). ``now_partners``
        take their next level whatever its delay (see ``plan_actions``)."""
        default_policy = self.env["followup.policy"]._default_for_company(company)
        policies = self.env["followup.policy"].search([("company_id", "=", company.id)])
        History = self.env["followup.history"]
        rows, manual_partners = self._planning_rows(
            company, today, partner_ids, default_policy.id
        )
        credits, credits_by_currency = self._partner_credits(company, partner_ids)
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
            now_partners=now_partners,
        )
        History._hold_letters_without_address(
            plan, set(policies.level_ids.filtered("print_letter").ids)
        )
        actions = History._create_from_plan(
            company,
            today,
            self,
            plan,
            origin,
            History._legal_amounts_of_plan(
                company,
                today,
                plan,
                rows,
                set(policies.level_ids.filtered("is_formal_notice").ids),
            ),
        )
        return plan, actions

    @api.model
    def _wake_followup_workers(self):
        """Ask Odoo's cron runner to run the follow-up's scheduled actions now
        (all but the one running this call): the other workers perform what
        was just planned."""
        # sudo: follow-up users may not read ir.cron; triggering only asks the
        # cron workers to run the follow-up soon
        jobs = (
            self.env["ir.cron"]
            .sudo()
            .search([("ir_actions_server_id.code", "=", FOLLOWUP_JOB_CODE)])
        )
        running = jobs.browse(self.env.context.get("cron_id"))
        for job in (jobs - running).filtered("active"):
            job._trigger()

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
        _plan, actions = self.browse()._plan_and_store(
            company, today, partners.ids, "manual", now_partners=set(partners.ids)
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
    def _planning_partner_slice(self, company, today, after):
        """The next customers with invoices that may escalate, after the
        customer ``after``: (ids, whether more follow)."""
        size = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("receivables_followup.plan_slice", PLAN_PARTNER_SLICE)
        )
        self.env["account.move"].flush_model()
        self.env["followup.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT m.commercial_partner_id
                  FROM account_move m
                 WHERE %s
                   AND m.commercial_partner_id > %s
                 ORDER BY 1
                 LIMIT %s
                """,
                self._planning_filter(company, today),
                after,
                size + 1,
            )
        )
        partner_ids = [partner_id for (partner_id,) in self.env.cr.fetchall()]
        return partner_ids[:size], len(partner_ids) > size

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
        return _invoice_rows(self.env.cr.fetchall(), default_policy_id)

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
