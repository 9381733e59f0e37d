from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    followup_agency_payment_id = fields.Many2one(
        "followup.agency.payment",
        string="Agency Payment",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The payment an agency collected that this item books: an agency's "
        "report books many payments in one entry, each reversed on its own.",
    )
