from odoo import _, fields, models
from odoo.tools import format_amount


class FollowupAgencyCaseLine(models.Model):
    """An invoice handed to the agency within a case."""

    _name = "followup.agency.case.line"
    _description = "Collection Agency Case Invoice"
    _order = "case_id, due_date, id"

    case_id = fields.Many2one(
        "followup.agency.case", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(related="case_id.currency_id")
    due_date = fields.Date(readonly=True)
    amount_handed = fields.Monetary(
        string="Handed Over",
        readonly=True,
        currency_field="currency_id",
        help="What the invoice still owed when it was handed over.",
    )
    amount_residual = fields.Monetary(
        string="Still Due",
        related="move_id.amount_residual",
        currency_field="currency_id",
    )
    amount_reported = fields.Monetary(
        string="Reported to the Agency",
        readonly=True,
        currency_field="currency_id",
        help="What the agency was last told the invoice still owes.",
    )
    dispute_reported = fields.Boolean(readonly=True)
    document_sent = fields.Boolean(string="PDF Sent", readonly=True)

    def _news_for_agency(self):
        """What the agency must learn about this invoice since it was last told,
        or None; records that it was told."""
        self.ensure_one()
        move = self.move_id
        texts = []
        currency = self.currency_id
        if currency.compare_amounts(move.amount_residual, self.amount_reported) < 0:
            how = (
                _("credited")
                if "out_refund" in move._followup_counterpart_types()
                else _("paid to us directly")
            )
            texts.append(
                _(
                    "Invoice %(invoice)s was %(how)s: %(before)s was outstanding, "
                    "now %(now)s.",
                    invoice=move.name,
                    how=how,
                    before=format_amount(self.env, self.amount_reported, currency),
                    now=format_amount(self.env, move.amount_residual, currency),
                )
            )
        if move.followup_dispute_paused and not self.dispute_reported:
            texts.append(
                _(
                    "Invoice %s is disputed by the customer: please hold its "
                    "collection until we come back to you.",
                    move.name,
                )
            )
        if not texts:
            return None
        self.write(
            {
                "amount_reported": move.amount_residual,
                "dispute_reported": self.dispute_reported
                or move.followup_dispute_paused,
            }
        )
        return " ".join(texts)
