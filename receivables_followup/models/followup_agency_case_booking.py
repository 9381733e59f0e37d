from odoo import fields, models


class FollowupAgencyCase(models.Model):
    """The payments an agency reported on the case and how they were booked."""

    _inherit = "followup.agency.case"

    agency_payment_ids = fields.One2many(
        "followup.agency.payment", "case_id", string="Agency Payments", readonly=True
    )
