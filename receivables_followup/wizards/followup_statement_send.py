from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

#: most customers e-mailed in one go: each gets its own statement PDF
MAX_STATEMENTS = 200


class FollowupStatementSend(models.TransientModel):
    """E-mail their statement to many customers at once: every open item (not
    yet due ones and unapplied payments included), the link to their statement
    page, and the statement PDF; the invoices' own PDFs when asked."""

    _name = "followup.statement.send"
    _description = "Send Customer Statements"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    attach_statement = fields.Boolean(string="Attach the Statement PDF", default=True)
    attach_invoices = fields.Boolean(
        string="Attach the Overdue Invoices' PDFs",
        help="Each overdue invoice's own PDF, as the customer received it.",
    )
    note = fields.Text(
        string="Personal Note",
        help="A sentence of your own, above the statement (optional).",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "partner_ids" in fields_list and not values.get("partner_ids"):
            partners = self.env["res.partner"].browse(
                self.env.context.get("active_ids") or []
            )
            values["partner_ids"] = [
                fields.Command.set(partners.commercial_partner_id.ids)
            ]
        return values

    def action_send(self):
        """Post one e-mail per customer, to its invoicing contact, in its
        chatter; customers without an e-mail address are reported, not
        skipped silently."""
        self.ensure_one()
        partners = self.partner_ids.commercial_partner_id
        partners.check_access("read")
        if len(partners) > MAX_STATEMENTS:
            raise UserError(
                _(
                    "Send at most %(count)s statements at once.",
                    count=MAX_STATEMENTS,
                )
            )
        company = self.company_id
        if company not in self.env.user.company_ids:
            raise UserError(_("Choose one of your companies."))
        Partner = self.env["res.partner"]
        contact_ids = Partner._collection_invoice_contacts(partners.ids)
        recipients = {
            partner.id: Partner.browse(contact_ids.get(partner.id)) or partner
            for partner in partners
        }
        missing = partners.filtered(lambda partner: not recipients[partner.id].email)
        if missing:
            raise UserError(
                _(
                    "No e-mail address for %(customers)s: add one, or leave them "
                    "out.",
                    customers=", ".join(missing.mapped("display_name")),
                )
            )
        for partner in partners:
            self._send_one(partner, recipients[partner.id], company)
        return {"type": "ir.actions.act_window_close"}

    def _send_one(self, partner, recipient, company):
        Statement = self.env["followup.statement"]
        lang = recipient.lang or partner.lang or self.env.lang
        values = Statement._values(partner, company, lang)
        values.update(
            note=(self.note or "").strip(),
            statement_url=partner.get_base_url() + Statement._path(partner, company),
            signature=self.env.user.name,
        )
        body = (
            self.env["ir.qweb"]
            .with_context(lang=lang)
            ._render("receivables_followup.followup_statement_email", values)
        )
        attachments = self.env["ir.attachment"]
        if self.attach_statement:
            attachments |= self._statement_pdf(partner, company, lang)
        if self.attach_invoices:
            attachments |= self._invoice_pdfs(values["lines"])
        subject = (
            self.env["followup.statement"]
            .with_context(lang=lang)
            .env._("%(company)s: your statement", company=company.name)
        )
        # sudo: follow-up users post on customers they may read; the e-mail
        # leaves from the responsible, as the reminders do
        partner.sudo().with_company(company).message_post(
            body=Markup(body),
            subject=subject,
            partner_ids=recipient.ids,
            attachment_ids=attachments.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_from=self.env.user.email_formatted or company.email_formatted,
        )

    def _statement_pdf(self, partner, company, lang):
        report = self.env.ref("receivables_followup.action_report_followup_partner_pdf")
        pdf, _report_type = (
            self.env["ir.actions.report"]
            .sudo()
            .with_company(company)
            .with_context(lang=lang)
            ._render_qweb_pdf(report, partner.ids)
        )
        filename = (
            self.env["followup.statement"]
            .with_context(lang=lang)
            .env._("Statement - %(customer)s.pdf", customer=partner.name)
        )
        return self.env["ir.attachment"].create(
            {
                "name": filename,
                "raw": pdf,
                "mimetype": "application/pdf",
                "res_model": "res.partner",
                "res_id": partner.id,
            }
        )

    def _invoice_pdfs(self, lines):
        overdue = self.env["account.move"].browse(
            [line["id"] for line in lines if line["overdue"]]
        )
        report = self.env.ref("account.account_invoices")
        attachments = self.env["ir.attachment"]
        for invoice in overdue:
            # the invoice's own PDF when Odoo kept it, else rendered now
            stored = invoice.sudo().message_main_attachment_id
            if stored and stored.mimetype == "application/pdf":
                attachments |= stored
                continue
            pdf, _report_type = (
                self.env["ir.actions.report"]
                .sudo()
                .with_company(invoice.company_id)
                ._render_qweb_pdf(report, invoice.ids)
            )
            attachments |= self.env["ir.attachment"].create(
                {
                    "name": f"{invoice.name.replace('/', '_')}.pdf",
                    "raw": pdf,
                    "mimetype": "application/pdf",
                    "res_model": "account.move",
                    "res_id": invoice.id,
                }
            )
        return attachments
