from odoo import fields, models


class FollowupRunPlanning(models.Model):
    """Where the planning of a run stands: its last customer planned and what
    its slices counted, one row per run, updated by each slice's call.

    The planner updates this row, not its run: the workers performing the run's
    actions meanwhile reference the run's row, and under Odoo's repeatable-read
    transactions an update of that row would make their batches fail and start
    again. Nothing references this row, and a planner whose snapshot predates
    another's slice cannot take it (it fails to lock it and performs instead):
    no slice is planned twice.
    """

    _name = "followup.run.planning"
    _description = "Follow-up Run Planning"

    run_id = fields.Many2one(
        "followup.run", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    last_partner_id = fields.Integer(
        string="Last Customer",
        readonly=True,
        help="The last customer (commercial partner id) planned.",
    )
    planned_count = fields.Integer(readonly=True)
    covered_partner_count = fields.Integer(
        string="Customers Covered by Credits", readonly=True
    )
    below_minimum_count = fields.Integer(string="Held Back by Minimum", readonly=True)

    _sql_constraints = [
        ("run_uniq", "unique(run_id)", "A run has one planning."),
    ]
