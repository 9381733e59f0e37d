import functools
import logging
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import format_date
from odoo.tools.pdf import merge_pdf

from ..services.locks import concurrency_error, retry_on_concurrency

_logger = logging.getLogger(__name__)

#: actions performed per transaction; a crash loses at most one batch of work
DEFAULT_BATCH_SIZE = 500
#: bus notification of runs that changed (see static/src/js/followup_run_list.js)
RUN_UPDATED = "receivables_followup/run_updated"


class FollowupRun(models.Model):
    """One day's follow-up of one company: its plan, its progress and its report.

    There is one run per company and date: running again the same day resumes the
    same run instead of planning a second one, which is what makes the run
    idempotent. This file holds the record, its entry points and the performing
    of its actions; its planning is a mixin beside it (``followup_run_planner.py``).
    """

    _name = "followup.run"
    _inherit = ["followup.run.planner"]
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
            ("planned", "Planning"),
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
    planning_ids = fields.One2many(
        "followup.run.planning", "run_id", string="Planning Progress", readonly=True
    )

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

        A call plans one slice of customers of a run still being planned (today's
        runs of the companies that have none are started first), or performs one
        batch of pending actions. Odoo's cron runner commits after each call and
        calls again while work remains: each slice's plan is committed before its
        actions are performed, a crash loses at most the call in flight, and that
        call left nothing behind (neither its history nor its emails).

        Several scheduled actions call this method (one per cron worker, see
        ``data/ir_cron_data.xml``): each call takes a run to plan, or a batch of
        actions, that no other worker holds, and the worker planning a slice
        wakes the others to perform it. Concurrency errors (a user writing an
        invoice the batch writes, two workers on one customer) roll the call
        back and retry it, as Odoo retries a request.

        :returns: (done, remaining) as reported to ``ir.cron._notify_progress``
        """
        done, remaining = retry_on_concurrency(
            self.env, functools.partial(self._run_followup_step, batch_size)
        )
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    @api.model
    def _run_followup_step(self, batch_size=None):
        """One unit of the scheduled follow-up: (done, remaining)."""
        companies = self.env["res.company"].search([])
        runs = self._start_todays_runs(companies)
        # a slice that plans nothing (a company without overdue customers)
        # takes no call of its own: planning goes on until a slice has work
        while planning := runs._lock_for_planning():
            examined, planned = planning._plan_next_slice()
            if planned:
                self._wake_followup_workers()
                pending = self.env["followup.history"].search_count(
                    [("state", "=", "pending"), ("company_id", "in", companies.ids)]
                )
                still_planning = runs.filtered(lambda run: run.state == "planned")
                return examined, pending + len(still_planning)
        done, remaining = self._perform_pending(companies, batch_size=batch_size)
        if done and remaining:
            # a worker that found nothing to do earlier has ended its job: wake
            # it for what is left
            self._wake_followup_workers()
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
        """ "Run Follow-up" menu: start today's run of the user's selected
        companies and plan its first slice of customers.

        The scheduled actions are woken to plan the rest and perform it in
        batches, so no user request holds one long transaction over every
        reminder, and only cron workers ever perform pending actions.
        """
        if not self.env.user.has_group("receivables_followup.group_followup_user"):
            raise AccessError(_("Only follow-up users can run the follow-up."))
        # sudo: runs and their actions are the engine's records, never written by
        # users; the user only asks for the companies it works in.
        Run = self.sudo()
        runs = Run._start_todays_runs(self.env.companies)
        # the first slice now, so that a small company's run is planned when the
        # list opens; a worker that holds the run plans it instead
        planning = runs._lock_for_planning()
        if planning:
            planning._plan_next_slice(origin="manual")
        if runs.filtered(lambda run: run.state != "done"):
            Run._wake_followup_workers()
        return {
            "type": "ir.actions.act_window",
            "name": _("Follow-up Runs"),
            "res_model": "followup.run",
            "view_mode": "list,form",
            "domain": [
                ("company_id", "in", self.env.companies.ids),
                ("date", "in", list(set(self.env.companies._followup_days().values()))),
            ],
        }

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
        are not caught: the scheduled action retries the whole call.
        """
        batch_size = batch_size or int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("receivables_followup.batch_size", DEFAULT_BATCH_SIZE)
        )
        History = self.env["followup.history"]
        domain = [("state", "=", "pending"), ("company_id", "in", companies.ids)]
        batch = History._take_pending(companies, batch_size)
        if batch:
            try:
                with self.env.cr.savepoint():
                    batch._perform(origin=origin)
            except psycopg2.OperationalError:
                raise
            except Exception as error:
                if concurrency_error(error):
                    raise
                _logger.exception("Follow-up batch failed; retrying action by action")
                self.env.invalidate_all()
                for action in batch.exists():
                    action._perform_isolated(origin)
        remaining = History.search_count(domain)
        if not remaining:
            # a run still being planned has more to come
            finished = self.search(
                [
                    ("company_id", "in", companies.ids),
                    ("state", "=", "running"),
                ]
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
