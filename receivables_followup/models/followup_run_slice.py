from odoo import fields, models


class FollowupRunSlice(models.Model):
    """A slice of customers of a run, planned and stored in one call: where the
    planning goes on (after its last customer) and what the slice counted.

    The planner inserts one per slice instead of updating its run: the workers
    performing the run's actions meanwhile reference the run's row, and under
    Odoo's repeatable-read transactions an update of that row would make their
    batches fail and start again.
    """

    _name = "followup.run.slice"
    _description = "Follow-up Run Slice"
    _order = "run_id, last_partner_id"

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
