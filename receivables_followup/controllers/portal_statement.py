"""The customer's statement in the portal, and paying it at once.

``/my/followup`` shows a customer its open invoices in one company, what is
overdue, what was sent, its disputes and promises, with a button to pay each
invoice (Odoo's own invoice page and its payment providers) and one to pay all
the overdue invoices of a currency in one transaction (Odoo's payment form,
whose transaction pays those invoices as Odoo's "overdue invoices" payment
does). Its own portal users see it; anyone else needs the signed link of a
reminder, which shows it read-only: paying is allowed, disputing and promising
are for the customer's signed-in users.
"""

from werkzeug.exceptions import abort

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.fields import Command
from odoo.http import content_disposition, request

from .portal import FollowupPortal, _to_int


class FollowupStatementPortal(FollowupPortal):
    # ------------------------------------------------------------------
    # Who may see which statement
    # ------------------------------------------------------------------
    def _followup_statement_access(self, partner_id, company_id, access_token):
        """``(customer, company, is_owner)`` of the statement asked for.

        The signed-in customer's own statement needs no token; any other needs
        the token of the link, which names both the customer and the company.

        :raise AccessError: when neither applies
        :raise MissingError: when the customer or the company does not exist
        """
        user = request.env.user
        own = None if user._is_public() else user.partner_id.commercial_partner_id
        if own is None and not access_token:
            raise AccessError(_("Sign in to see your statement."))
        Partner = request.env["res.partner"].sudo()
        partner = Partner.browse(_to_int(partner_id)).exists() if partner_id else own
        if not partner:
            raise MissingError(_("This statement does not exist."))
        partner = partner.commercial_partner_id
        company = self._followup_statement_company(partner, company_id)
        is_owner = own is not None and partner == own
        if not is_owner and not request.env["followup.statement"]._check_token(
            partner, company, access_token
        ):
            raise AccessError(_("This link to a statement is not valid."))
        return partner, company, is_owner

    def _followup_statement_company(self, partner, company_id):
        Company = request.env["res.company"].sudo()
        if company_id:
            company = Company.browse(_to_int(company_id)).exists()
            if not company:
                raise MissingError(_("This statement does not exist."))
            return company
        # the signed-in customer's statement: the company it owes most
        # invoices to, where the database has several
        groups = (
            request.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "=", partner.id),
                    ("move_type", "in", ("out_invoice", "out_receipt")),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
                ["company_id"],
                ["__count"],
                order="__count desc",
                limit=1,
            )
        )
        return groups[0][0] if groups else request.env.company.sudo()

    def _followup_statement_lang(self, partner, is_owner):
        """The statement speaks its reader's language: the signed-in user's,
        else (the link of a reminder) the customer's, as the reminder did."""
        if is_owner:
            return request.env.user.lang or partner.lang or request.env.lang
        return partner.lang or request.env.lang

    def _followup_statement_page_access(self, partner_id, company_id, access_token):
        """:meth:`_followup_statement_access` for a page: a visitor without a
        token is sent to sign in, any other refusal is a 404."""
        try:
            return self._followup_statement_access(partner_id, company_id, access_token)
        except MissingError:
            raise request.not_found() from None
        except AccessError:
            if request.env.user._is_public() and not access_token:
                abort(request.redirect("/web/login?redirect=/my/followup"))
            raise request.not_found() from None

    # ------------------------------------------------------------------
    # Pages
    # ------------------------------------------------------------------
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "followup_statement_count" in counters:
            partner = request.env.user.partner_id.commercial_partner_id
            # sudo: the customer counts its own open invoices
            values["followup_statement_count"] = (
                request.env["account.move"]
                .sudo()
                .search_count(
                    [
                        ("commercial_partner_id", "=", partner.id),
                        ("move_type", "in", ("out_invoice", "out_receipt")),
                        ("state", "=", "posted"),
                        ("payment_state", "in", ("not_paid", "partial")),
                    ]
                )
            )
        return values

    @http.route("/my/followup", type="http", auth="public", website=True)
    def portal_followup_statement(
        self, partner_id=None, company_id=None, access_token=None, **kw
    ):
        partner, company, is_owner = self._followup_statement_page_access(
            partner_id, company_id, access_token
        )
        lang = self._followup_statement_lang(partner, is_owner)
        request.update_context(lang=lang)
        values = self._prepare_portal_layout_values()
        values.update(request.env["followup.statement"]._values(partner, company, lang))
        values.update({"page_name": "followup_statement", "is_owner": is_owner})
        return request.render("receivables_followup.portal_followup_statement", values)

    @http.route("/my/followup/pdf", type="http", auth="public", website=True)
    def portal_followup_statement_pdf(
        self, partner_id=None, company_id=None, access_token=None, **kw
    ):
        partner, company, is_owner = self._followup_statement_page_access(
            partner_id, company_id, access_token
        )
        # the statement of one company, in the reader's language, rendered as
        # the portal renders an invoice's PDF (_show_report, which takes the
        # company from the record: a customer has none)
        # sudo: the statement of a customer the visitor may see
        lang = self._followup_statement_lang(partner, is_owner)
        report = (
            request.env["ir.actions.report"]
            .sudo()
            .with_company(company)
            .with_context(lang=lang)
            ._render_qweb_pdf(
                "receivables_followup.action_report_followup_partner_pdf",
                partner.ids,
                data={"report_type": "pdf"},
            )[0]
        )
        filename = (
            request.env["followup.statement"]
            .with_context(lang=lang)
            .env._("Statement - %(customer)s.pdf", customer=partner.name)
        )
        return request.make_response(
            report,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(report)),
                ("Content-Disposition", content_disposition(filename)),
            ],
        )

    # ------------------------------------------------------------------
    # Paying every overdue invoice of a currency at once
    # ------------------------------------------------------------------
    @http.route("/my/followup/pay", type="http", auth="public", website=True)
    def portal_followup_pay(
        self,
        partner_id=None,
        company_id=None,
        currency_id=None,
        access_token=None,
        **kw,
    ):
        partner, company, _is_owner = self._followup_statement_page_access(
            partner_id, company_id, access_token
        )
        Statement = request.env["followup.statement"]
        currency = request.env["res.currency"].browse(_to_int(currency_id)).exists()
        invoices = (
            Statement._payable_invoices(partner, company, currency)
            if currency
            else request.env["account.move"]
        )
        if not invoices:
            return request.redirect(Statement._path(partner, company))
        total = sum(invoices.mapped("amount_residual"))
        values = self._prepare_portal_layout_values()
        values.update(
            self._get_common_page_view_values(
                invoices_data={
                    "partner": partner,
                    "company": company,
                    "total_amount": total,
                    "currency": currency,
                    "amount_residual": total,
                    "landing_route": Statement._path(partner, company),
                    "transaction_route": (
                        f"/my/followup/transaction/{partner.id}/{company.id}"
                        f"/{currency.id}"
                    ),
                },
                access_token=Statement._token(partner, company),
            )
        )
        values.update(
            {
                "page_name": "followup_statement",
                "amount": total,
                "currency": currency,
                "followup_invoices": invoices,
                "statement_url": Statement._path(partner, company),
            }
        )
        return request.render("receivables_followup.portal_followup_pay", values)

    @http.route(
        "/my/followup/transaction/<int:partner_id>/<int:company_id>/<int:currency_id>",
        type="json",
        auth="public",
    )
    def portal_followup_transaction(
        self, partner_id, company_id, currency_id, access_token=None, amount=None, **kw
    ):
        """Create the transaction paying the customer's overdue invoices of
        the currency and return its processing values (Odoo's payment form
        calls this, as it calls ``/invoice/transaction/overdue``)."""
        try:
            partner, company, _is_owner = self._followup_statement_access(
                partner_id, company_id, access_token
            )
        except (AccessError, MissingError):
            raise ValidationError(_("This link to a statement is not valid.")) from None
        currency = request.env["res.currency"].browse(currency_id).exists()
        invoices = (
            request.env["followup.statement"]._payable_invoices(
                partner, company, currency
            )
            if currency
            else request.env["account.move"]
        )
        if not invoices:
            raise ValidationError(_("Nothing is left to pay in this currency."))
        total = sum(invoices.mapped("amount_residual"))
        try:
            amount = float(amount)
        except (TypeError, ValueError):
            amount = None
        if amount is None or currency.compare_amounts(amount, total) != 0:
            raise ValidationError(
                _("The amount due changed since the page was opened: reload it.")
            )
        self._validate_transaction_kwargs(kw)
        user = request.env.user
        payer = partner if user._is_public() else user.partner_id
        kw.update(
            {
                "amount": amount,
                "currency_id": currency.id,
                "partner_id": payer.id,
                "reference_prefix": None,
            }
        )
        transaction = self._create_transaction(
            custom_create_values={"invoice_ids": [Command.set(invoices.ids)]}, **kw
        )
        return transaction._get_processing_values()
