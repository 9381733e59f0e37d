from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..services import dispute as rules


class FollowupDisputeLine(models.Model):
    _name = "followup.dispute.line"
    _description = "Disputed Invoice"
    _check_company_auto = True

    dispute_id = fields.Many2one(
        "followup.dispute", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="dispute_id.company_id", store=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        check_company=True,
        domain="[('move_type', 'in', ('out_invoice', 'out_receipt')),"
        " ('state', '=', 'posted'),"
        " ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount = fields.Monetary(
        string="Disputed Amount",
        currency_field="currency_id",
        help="The part of the invoice's residual amount the customer disputes.",
    )
    amount_residual = fields.Monetary(
        related="move_id.amount_residual", currency_field="currency_id"
    )
    amount_company = fields.Monetary(
        compute="_compute_amount_company",
        store=True,
        currency_field="company_currency_id",
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    is_partial = fields.Boolean(
        compute="_compute_is_partial",
        help="Only part of the invoice's residual amount is disputed.",
    )

    @api.depends("amount", "move_id.amount_total", "move_id.amount_total_signed")
    def _compute_amount_company(self):
        for line in self:
            total = line.move_id.amount_total
            ratio = abs(line.move_id.amount_total_signed) / total if total else 1.0
            line.amount_company = line.amount * ratio

    @api.depends("amount", "move_id.amount_residual")
    def _compute_is_partial(self):
        for line in self:
            line.is_partial = rules.is_partial(
                line.amount, line.amount_residual, line.currency_id.rounding or 0.01
            )

    @api.onchange("move_id")
    def _onchange_move_id(self):
        if self.move_id and not self.amount:
            self.amount = self.move_id.amount_residual

    @api.constrains("amount", "move_id")
    def _check_amount(self):
        """Same rules as the service: checked for disputes edited in the form."""
        for line in self.filtered(lambda line: rules.is_active(line.dispute_id.state)):
            line.dispute_id._validate_invoice_amounts(
                line.dispute_id.partner_id.commercial_partner_id,
                {line.move_id: line.amount},
                exclude_lines=line,
            )

    # ------------------------------------------------------------------
    # A closed dispute's invoices and amounts are its record: they stay.
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._check_dispute_active()
        return lines

    def write(self, vals):
        # access first: whoever may not touch the line learns nothing of its
        # dispute's state
        self.check_access("write")
        self._check_dispute_active()
        return super().write(vals)

    def unlink(self):
        self.check_access("unlink")
        self._check_dispute_active()
        return super().unlink()

    def _check_dispute_active(self):
        if any(not rules.is_active(line.dispute_id.state) for line in self):
            raise UserError(
                self.env._("The invoices of a closed dispute cannot be changed.")
            )

    # ------------------------------------------------------------------
    # Credit notes
    # ------------------------------------------------------------------
    def _create_credit_notes(self):
        """Create and post one credit note per line, for its disputed amount.

        The credit note comes from Odoo's reversal flow (so it is linked to the
        invoice as its reversal); when only part of the invoice is disputed, its
        lines are scaled down so that its total is the disputed amount.

        :return: the posted credit notes (account.move)
        """
        credit_notes = self.env["account.move"]
        for line in self:
            invoice = line.move_id
            reversal = invoice._reverse_moves(
                [
                    {
                        "ref": self.env._(
                            "Dispute %(dispute)s: %(invoice)s",
                            dispute=line.dispute_id.name,
                            invoice=invoice.name,
                        ),
                        "invoice_date": invoice.company_id._followup_today(),
                        "date": invoice.company_id._followup_today(),
                    }
                ]
            )
            line._scale_credit_note(reversal)
            reversal.action_post()
            credit_notes |= reversal
        return credit_notes

    def _scale_credit_note(self, credit_note):
        """Bring a full reversal's total down to the disputed amount."""
        self.ensure_one()
        currency = credit_note.currency_id
        if not currency.compare_amounts(credit_note.amount_total, self.amount):
            return
        factor = self.amount / credit_note.amount_total
        product_lines = credit_note.invoice_line_ids.filtered(
            lambda aml: aml.display_type == "product"
        )
        for aml in product_lines:
            aml.price_unit = float_round(
                aml.price_unit * factor, precision_digits=self._price_digits()
            )
        # Tax rounding may leave a cent; put it on the largest line's untaxed price.
        difference = self.amount - credit_note.amount_total
        if currency.compare_amounts(difference, 0.0) and product_lines:
            largest = max(product_lines, key=lambda aml: abs(aml.price_subtotal))
            ratio = (
                largest.price_total / largest.price_subtotal
                if largest.price_subtotal
                else 1.0
            )
            quantity = largest.quantity or 1.0
            largest.price_unit += difference / ratio / quantity

    def _price_digits(self):
        return self.env["decimal.precision"].precision_get("Product Price")
