import logging

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..models.followup_agency_case import OPEN_STATES
from ..services import handoff
from ..services.agency_errors import AgencyError

_logger = logging.getLogger(__name__)

MANAGER = "receivables_followup.group_followup_manager"


def refusal_labels(env):
    """Why each invoice was left out, in the user's words."""
    _ = env._
    return {
        handoff.NOT_INVOICE: _("not a customer invoice"),
        handoff.NOT_POSTED: _("not posted"),
        handoff.PAID: _("nothing left to pay"),
        handoff.AT_AGENCY: _("already at a collection agency"),
        handoff.NOT_OVERDUE: _("not overdue"),
        handoff.TOO_RECENT: _("overdue for less than the company's minimum"),
        handoff.DISPUTED: _("disputed by the customer"),
        handoff.PROMISED: _("the customer promised to pay"),
        handoff.EXCLUDED: _("excluded from follow-up"),
        handoff.CURRENCY: _("currency not accepted by the agency"),
        handoff.BELOW_MINIMUM: _("the customer's claim is below the agency's minimum"),
        handoff.NO_ADDRESS: _(
            "the customer's address has no country (or no state in the US): the "
            "agency cannot route the claim"
        ),
    }


def _has_routable_address(partner):
    country = partner.country_id
    return bool(country) and (country.code != "US" or bool(partner.state_id))


class FollowupHandoffWizard(models.TransientModel):
    """Hand customers' unpaid invoices to a collection agency.

    Opening it sorts the invoices: the eligible ones grouped into one case per
    debtor and currency, with the agency's preview (eligibility, firm, fee), the
    others listed with their reason. Confirming creates the cases and queues
    their sending; the agency is never called in the confirming transaction.
    """

    _name = "followup.handoff.wizard"
    _description = "Hand Off to a Collection Agency"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    agency_id = fields.Many2one(
        "followup.agency",
        required=True,
        domain="[('company_id', '=', company_id)]",
    )
    move_ids = fields.Many2many("account.move", string="Invoices")
    case_ids = fields.One2many("followup.handoff.wizard.case", "wizard_id")
    refusal_ids = fields.One2many("followup.handoff.wizard.refusal", "wizard_id")
    preview_message = fields.Text(readonly=True)
    send_transfer_notice = fields.Boolean(
        string="Notify the Customers",
        default=True,
        help="E-mail each customer that its invoices are now with the agency.",
    )
    note = fields.Text(
        string="Note to the Agency", help="Sent with each claim to the collection firm."
    )
    is_manager = fields.Boolean(compute="_compute_is_manager")
    is_test = fields.Boolean(related="agency_id.is_test")

    def _compute_is_manager(self):
        self.is_manager = self.env.user.has_group(MANAGER)

    # ------------------------------------------------------------------
    # opening
    # ------------------------------------------------------------------
    @api.model
    def _open_for(self, moves):
        """The wizard's action for these invoices, sorted and previewed."""
        moves = moves.filtered(lambda m: m.move_type in ("out_invoice", "out_receipt"))
        if not moves:
            raise UserError(_("Select customer invoices to hand over."))
        companies = moves.company_id
        if len(companies) > 1:
            raise UserError(_("Hand over the invoices of one company at a time."))
        agency = self.env["followup.agency"].search(
            [("company_id", "=", companies.id)], limit=1
        )
        if not agency:
            raise UserError(
                _(
                    "No collection agency is configured for %s: a follow-up manager "
                    "adds one under Configuration > Collection Agencies.",
                    companies.name,
                )
            )
        wizard = self.create(
            {"company_id": companies.id, "agency_id": agency.id, "move_ids": moves.ids}
        )
        wizard._prepare()
        return wizard._reopen()

    @api.onchange("agency_id")
    def _onchange_agency_id(self):
        if self.agency_id and self.move_ids:
            self._prepare()

    def action_check_agency(self):
        self._prepare()
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Hand Off to a Collection Agency"),
        }

    def _check_one_company(self):
        """The invoices and the agency are the wizard's company's. Its fields
        are readonly in the form only: an RPC client can add another
        company's invoice or agency, and neither a case nor the agency's
        preview may mix companies.

        :raises UserError: when they do not
        """
        if self.move_ids.company_id - self.company_id:
            raise UserError(_("Hand over the invoices of one company at a time."))
        if self.agency_id.company_id != self.company_id:
            raise UserError(
                _("Choose a collection agency of %s.", self.company_id.name)
            )

    def _prepare(self):
        """Sort the invoices and ask the agency for its preview."""
        self.ensure_one()
        self._check_one_company()
        claims, refused = handoff.split(self._candidates(), self._rules())
        labels = refusal_labels(self.env)
        Move = self.env["account.move"]
        self.refusal_ids = [Command.clear()] + [
            Command.create({"move_id": move_id, "reason": labels[reason]})
            for move_id, reason in sorted(refused.items())
        ]
        case_values = []
        for (partner_id, _currency), members in claims.items():
            moves = Move.browse([m.move_id for m in members])
            case_values.append(
                {
                    "partner_id": partner_id,
                    "currency_id": moves[0].currency_id.id,
                    "move_ids": [Command.set(moves.ids)],
                    "amount": sum(m.amount_residual for m in members),
                }
            )
        self.case_ids = [Command.clear()] + [Command.create(v) for v in case_values]
        self._preview()

    def _rules(self):
        agency = self.agency_id
        company = self.company_id
        today = company._followup_today()
        minimum = {}
        if agency.minimum_claim:
            for currency in self.move_ids.currency_id:
                minimum[currency.name] = company.currency_id._convert(
                    agency.minimum_claim, currency, company, today
                )
        return handoff.Rules(
            today=today,
            min_days_overdue=company.followup_handoff_min_days,
            currencies=frozenset(agency.currency_ids.mapped("name")),
            minimum_by_currency=minimum,
        )

    def _candidates(self):
        """The selected invoices as the eligibility rules see them."""
        moves = self.move_ids
        at_agency = set(
            self.env["followup.agency.case.line"]
            .sudo()
            .search(
                [("move_id", "in", moves.ids), ("case_id.state", "in", OPEN_STATES)]
            )
            .move_id.ids
        )
        return [
            handoff.Candidate(
                move_id=move.id,
                partner_id=move.commercial_partner_id.id,
                currency=move.currency_id.name,
                amount_residual=move.amount_residual,
                due_date=move.invoice_date_due,
                is_posted=move.state == "posted",
                is_customer_invoice=move.move_type in ("out_invoice", "out_receipt"),
                disputed=move.followup_dispute_paused,
                promise_date=move.followup_promise_date,
                excluded=move.followup_excluded,
                at_agency=move.followup_at_agency or move.id in at_agency,
                debtor_reachable=_has_routable_address(move.commercial_partner_id),
            )
            for move in moves
        ]

    def _preview(self):
        """The agency's preview of each case: the one call made while the user
        waits, read-only and short; when it fails the wizard still works."""
        self.preview_message = False
        if not self.case_ids:
            return
        cases = self.case_ids
        claims = [case._claim() for case in cases]
        try:
            previews = self.agency_id._agency_preview(claims)
        except AgencyError as error:
            _logger.info("Agency preview failed: %s", error)
            self.preview_message = _(
                "The agency could not be reached for a preview (%s). You can still "
                "hand the invoices over: they are sent as soon as the agency answers.",
                error.message,
            )
            return
        for case, preview in zip(cases, previews, strict=True):
            if preview is None:
                continue
            rate = preview.fee_rate
            if rate is None:
                rate = self.agency_id.default_fee_rate
            case.update(
                {
                    "previewed": True,
                    "eligible": preview.eligible,
                    "assigned_firm": preview.partner_name,
                    "fee_rate": rate,
                    "fee_amount": case.currency_id.round(case.amount * rate / 100.0),
                    "agency_note": preview.note,
                }
            )

    # ------------------------------------------------------------------
    # confirming
    # ------------------------------------------------------------------
    def action_confirm(self):
        """Hand the eligible invoices to the agency: one case per debtor and
        currency, queued for the outbox (nothing is sent in the user's
        transaction), the customers told when asked. Returns the cases' list.

        :raise UserError: not a follow-up manager, or no invoice left to hand
        """
        self.ensure_one()
        if not self.env.user.has_group(MANAGER):
            raise UserError(
                _("Handing invoices to an agency needs a follow-up manager.")
            )
        # the invoices may have changed since the wizard opened
        self._prepare_without_preview()
        if not self.case_ids:
            raise UserError(_("None of the selected invoices can be handed over."))
        self.move_ids.check_access("write")
        cases = self._create_cases()
        moves = cases.line_ids.move_id
        moves.sudo().write({"followup_at_agency": True})
        self._log_hand_off(cases)
        cases._queue_submission()
        if self.send_transfer_notice:
            cases._send_transfer_notice()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_case"
        )
        action["domain"] = [("id", "in", cases.ids)]
        return action

    def _create_cases(self):
        """Create the agency cases of the wizard's case lines, in one batch;
        return them."""
        today = self.company_id._followup_today()
        Case = self.env["followup.agency.case"].sudo()
        return Case.create(
            [
                {
                    "agency_id": self.agency_id.id,
                    "company_id": self.company_id.id,
                    "partner_id": line.partner_id.id,
                    "currency_id": line.currency_id.id,
                    "user_id": self.env.uid,
                    "is_test": self.agency_id.is_test,
                    "date_handed": today,
                    "note": self.note,
                    "assigned_firm": line.assigned_firm,
                    "success_fee_rate": line.fee_rate,
                    "amount_handed": sum(line.move_ids.mapped("amount_residual")),
                    "line_ids": [
                        Command.create(
                            {
                                "move_id": move.id,
                                "due_date": move.invoice_date_due,
                                "amount_handed": move.amount_residual,
                                "amount_reported": move.amount_residual,
                            }
                        )
                        for move in line.move_ids
                    ],
                }
                for line in self.case_ids
            ]
        )

    def _log_hand_off(self, cases):
        """Log on each invoice of ``cases`` the agency and case it went to."""
        for case in cases:
            case.line_ids.move_id._message_log_batch(
                bodies=dict.fromkeys(
                    case.line_ids.move_id.ids,
                    _(
                        "Handed to the collection agency %(agency)s (case %(case)s).",
                        agency=case.agency_id.name,
                        case=case.name,
                    ),
                )
            )

    def _prepare_without_preview(self):
        self._check_one_company()
        claims, _refused = handoff.split(self._candidates(), self._rules())
        eligible = {m.move_id for members in claims.values() for m in members}
        for case in self.case_ids:
            remaining = case.move_ids.filtered(lambda m: m.id in eligible)
            if not remaining:
                case.unlink()
            elif remaining != case.move_ids:
                case.move_ids = remaining


class FollowupHandoffWizardCase(models.TransientModel):
    _name = "followup.handoff.wizard.case"
    _description = "Hand-off Wizard: a Case"

    wizard_id = fields.Many2one(
        "followup.handoff.wizard", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    move_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    invoice_count = fields.Integer(
        string="Number of Invoices", compute="_compute_invoice_count"
    )
    amount = fields.Monetary(string="Claim", readonly=True)
    previewed = fields.Boolean(readonly=True)
    eligible = fields.Boolean(string="Accepted", readonly=True)
    assigned_firm = fields.Char(string="Collection Firm", readonly=True)
    fee_rate = fields.Float(string="Success Fee (%)", readonly=True)
    fee_amount = fields.Monetary(string="Estimated Fee", readonly=True)
    agency_note = fields.Char(string="Agency's Note", readonly=True)

    @api.depends("move_ids")
    def _compute_invoice_count(self):
        for case in self:
            case.invoice_count = len(case.move_ids)

    def _claim(self):
        """The case's claim as the agency would receive it."""
        agency_case = self.env["followup.agency.case"].new(
            {
                "agency_id": self.wizard_id.agency_id.id,
                "company_id": self.wizard_id.company_id.id,
                "partner_id": self.partner_id.id,
                "currency_id": self.currency_id.id,
                "is_test": self.wizard_id.agency_id.is_test,
                "date_handed": self.wizard_id.company_id._followup_today(),
                "line_ids": [
                    Command.create(
                        {
                            "move_id": move.id,
                            "due_date": move.invoice_date_due,
                            "amount_handed": move.amount_residual,
                        }
                    )
                    for move in self.move_ids
                ],
            }
        )
        return agency_case._agency_claim()


class FollowupHandoffWizardRefusal(models.TransientModel):
    _name = "followup.handoff.wizard.refusal"
    _description = "Hand-off Wizard: an Invoice Left Out"

    wizard_id = fields.Many2one(
        "followup.handoff.wizard", required=True, ondelete="cascade"
    )
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one(related="move_id.partner_id", string="Customer")
    amount_residual = fields.Monetary(related="move_id.amount_residual")
    currency_id = fields.Many2one(related="move_id.currency_id")
    reason = fields.Char(readonly=True)
