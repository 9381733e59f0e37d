from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class FollowupAgency(models.Model):
    """Where the money an agency collects is booked.

    The agency holds what it collects until it remits it, less its success
    fee: a payment it collected is debited to its clearing account and credited
    to the debtor's receivable, its fee moves from the clearing account to an
    expense, and its remittance, a bank statement line, clears the rest.
    """

    # the accounting of the agencies, apart from the adapters
    _inherit = "followup.agency"  # pylint: disable=consider-merging-classes-inherited

    journal_id = fields.Many2one(
        "account.journal",
        string="Booking Journal",
        compute="_compute_journal_id",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('type', '=', 'general')]",
        help="Miscellaneous journal of the entries booking what the agency collects.",
    )
    clearing_account_id = fields.Many2one(
        "account.account",
        string="Agency Clearing Account",
        check_company=True,
        domain="[('account_type', '=', 'asset_current'), ('reconcile', '=', True)]",
        help="What the agency holds for the company: debited with what it "
        "collects, credited with its success fee and with its remittances. "
        "A reconcilable current asset.",
    )
    fee_account_id = fields.Many2one(
        "account.account",
        string="Success Fee Account",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Expense account of the agency's success fees.",
    )
    agency_partner_id = fields.Many2one(
        "res.partner",
        check_company=True,
        help="The agency as a contact, on the journal items of the clearing "
        "account and of the success fees.",
    )

    @api.depends("company_id")
    def _compute_journal_id(self):
        for agency in self:
            if agency.journal_id.company_id == agency.company_id:
                continue
            agency.journal_id = self.env["account.journal"].search(
                [
                    *self.env["account.journal"]._check_company_domain(
                        agency.company_id
                    ),
                    ("type", "=", "general"),
                ],
                limit=1,
            )

    @api.constrains("clearing_account_id")
    def _check_clearing_account(self):
        for agency in self.sudo():
            account = agency.clearing_account_id
            if account and (
                not account.reconcile or account.account_type != "asset_current"
            ):
                raise ValidationError(
                    _(
                        "The clearing account of an agency must be a reconcilable "
                        "current asset (%s is not).",
                        account.display_name,
                    )
                )

    def _booking_accounts(self):
        """The journal, clearing account, fee account and partner of the
        bookings; a UserError naming what a manager must set first."""
        self.ensure_one()
        agency = self.sudo()
        missing = [
            agency._fields[name]._description_string(self.env)
            for name in (
                "journal_id",
                "clearing_account_id",
                "fee_account_id",
                "agency_partner_id",
            )
            if not agency[name]
        ]
        if missing:
            raise UserError(
                _(
                    "The payments collected by the agency %(agency)s cannot be "
                    "booked: set its %(fields)s on the agency's form first.",
                    agency=agency.name,
                    fields=", ".join(missing),
                )
            )
        return (
            agency.journal_id,
            agency.clearing_account_id,
            agency.fee_account_id,
            agency.agency_partner_id,
        )

    def _reconcile_remittance(self, statement_lines):
        """Match the agency's remittances with its clearing balance.

        Odoo Community has no bank reconciliation widget; this does what the
        widget does and what Odoo's own tests do: the statement line's suspense
        item is moved to the agency's clearing account (partner: the agency),
        then reconciled with the agency's open clearing items by Odoo's
        ``account.move.line.reconcile()``, oldest first. A remittance of the
        whole net balance leaves the clearing account at zero for the agency.

        :param statement_lines: ``account.bank.statement.line`` records paid
            by this agency
        :returns: the clearing items reconciled
        """
        self.ensure_one()
        _journal, clearing, _fee, partner = self._booking_accounts()
        Line = self.env["account.move.line"].sudo()
        counterparts = Line
        for st_line in statement_lines.sudo():
            if st_line.is_reconciled:
                continue
            _liquidity, suspense, _other = st_line._seek_for_lines()
            if not suspense:
                raise UserError(
                    _("The statement line %s is already matched.", st_line.display_name)
                )
            suspense.write({"account_id": clearing.id, "partner_id": partner.id})
            counterparts |= suspense
        if not counterparts:
            return Line
        open_lines = Line.search(
            [
                ("account_id", "=", clearing.id),
                ("partner_id", "=", partner.id),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("id", "not in", counterparts.ids),
            ],
            order="date, id",
        )
        (counterparts | open_lines).reconcile()
        return open_lines
