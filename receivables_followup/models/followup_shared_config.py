from odoo import _, api, models
from odoo.exceptions import AccessError


class FollowupSharedConfig(models.AbstractModel):
    """Configuration records that every company shares unless it has its own
    (``company_id`` empty): the late-payment rates, the dispute reasons.

    A shared record changes what every company does, so only a user who manages
    every company may create, change or delete one; a company's manager makes a
    record of their own company instead.
    """

    _name = "followup.shared.config"
    _description = "Follow-up Configuration Shared by the Companies"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._check_shared_edit()
        return records

    def write(self, vals):
        self._check_shared_edit()
        result = super().write(vals)
        self._check_shared_edit()
        return result

    def unlink(self):
        self._check_shared_edit()
        return super().unlink()

    def _check_shared_edit(self):
        if self.env.su or all(record.company_id for record in self):
            return
        every_company = set(self.env["res.company"].sudo().search([]).ids)
        if not every_company.issubset(self.env.user._get_company_ids()):
            raise AccessError(
                _(
                    "%(model)s without a company apply to every company: only a "
                    "user of every company may change them. Make one for your "
                    "company instead.",
                    model=self._description,
                )
            )
