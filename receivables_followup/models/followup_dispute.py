from odoo import api, fields, models


class FollowupDispute(models.Model):
    """A customer's dispute of one or more invoices.

    While a dispute is open or under review, its invoices do not escalate. The
    workflow and the service other code calls to open one are added by the disputes
    feature; this class holds the record.
    """

    _name = "followup.dispute"
    _description = "Invoice Dispute"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, copy=False, readonly=True, default="/"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        domain="[('is_company', '=', True)]",
    )
    line_ids = fields.One2many(
        "followup.dispute.line", "dispute_id", string="Disputed Invoices", copy=False
    )
    reason_id = fields.Many2one("followup.dispute.reason", required=True, tracking=True)
    description = fields.Html()
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        tracking=True,
        default=lambda self: self.env.user,
    )
    date_deadline = fields.Date(string="Deadline", tracking=True)
    state = fields.Selection(
        [
            ("open", "Open"),
            ("under_review", "Under Review"),
            ("resolved", "Resolved"),
            ("cancelled", "Cancelled"),
        ],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    resolution = fields.Selection(
        [
            ("credit_note", "Credit Note"),
            ("correction", "Correction"),
            ("rejected", "Rejected"),
        ],
        tracking=True,
        copy=False,
    )
    rejection_reason = fields.Text(copy=False)
    credit_note_ids = fields.Many2many(
        "account.move",
        "followup_dispute_credit_note_rel",
        "dispute_id",
        "move_id",
        string="Credit Notes",
        copy=False,
    )
    origin = fields.Selection(
        [("internal", "Internal"), ("portal", "Customer Portal"), ("agency", "Agency")],
        default="internal",
        readonly=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_disputed = fields.Monetary(
        compute="_compute_amount_disputed", store=True, currency_field="currency_id"
    )
    date_closed = fields.Date(readonly=True, copy=False)

    @api.depends("line_ids.amount_company")
    def _compute_amount_disputed(self):
        for dispute in self:
            dispute.amount_disputed = sum(dispute.line_ids.mapped("amount_company"))
