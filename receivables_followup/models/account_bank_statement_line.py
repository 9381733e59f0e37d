from odoo import _, models
from odoo.exceptions import UserError


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    def action_followup_match_agency_remittance(self):
        """Match bank lines paid by collection agencies with what each agency
        owes (its clearing balance): Community's way to a remittance's match."""
        self.env["followup.agency"]._check_manager()
        lines = self.filtered(lambda line: not line.is_reconciled)
        agencies = self.env["followup.agency"].search(
            [
                ("agency_partner_id", "in", lines.partner_id.commercial_partner_id.ids),
                ("company_id", "in", lines.company_id.ids),
            ]
        )
        matched = self.browse()
        for agency in agencies:
            own = lines.filtered(
                lambda line, agency=agency: line.company_id == agency.company_id
                and line.partner_id.commercial_partner_id == agency.agency_partner_id
            )
            if own:
                agency._reconcile_remittance(own)
                matched |= own
        if not matched:
            raise UserError(
                _(
                    "None of these bank lines is an unmatched payment from a "
                    "collection agency's contact (the contact set on the agency)."
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%s bank lines matched with the agencies' balances.", len(matched)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
