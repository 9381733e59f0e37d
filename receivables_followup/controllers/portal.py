"""Customer portal: dispute an invoice, promise to pay, follow one's disputes.

The controller is thin: it checks that the signed-in customer owns the invoice,
parses the form, and hands over to the models' services
(``followup.dispute._open_dispute``, ``account.move._followup_register_promise``).
"""

import re

from odoo import _, fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..services.amounts import (
    ERR_EMPTY,
    ERR_NEGATIVE,
    ERR_NOT_A_NUMBER,
    ERR_TOO_LARGE,
    AmountError,
    parse_amount,
)

#: largest file a customer may attach to a dispute
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: longest message a customer may send with a dispute; it is stored, posted in
#: the chatter and emailed to the responsible, so details go in attachments
MAX_MESSAGE_CHARS = 10_000
CUSTOMER_INVOICE_TYPES = ("out_invoice", "out_receipt")
#: characters no one types in a message and XML cannot hold (tab and line
#: breaks kept): a message of "\x08" crashed the posting of the message,
#: whose plain-text version goes through an XML parser
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


class FollowupPortal(PortalAccount):
    # ------------------------------------------------------------------
    # Ownership
    # ------------------------------------------------------------------
    def _followup_customer(self):
        return request.env.user.partner_id.commercial_partner_id

    def _followup_owned_invoice(self, invoice_id):
        """The invoice, sudoed, if the signed-in user's company owns it.

        No access token here: a link forwarded by email lets one read an invoice,
        not act on it as its customer.
        """
        invoice_sudo = self._document_check_access("account.move", invoice_id)
        if (
            invoice_sudo.move_type not in CUSTOMER_INVOICE_TYPES
            or invoice_sudo.commercial_partner_id != self._followup_customer()
        ):
            raise AccessError(_("This invoice is not yours."))
        return invoice_sudo

    def _followup_invoice_values(self, invoice_sudo):
        """What the invoice page needs to show the dispute and promise forms."""
        if request.env.user._is_public():
            return {}
        if invoice_sudo.commercial_partner_id != self._followup_customer():
            return {}
        # sudo: the customer reads its own disputes of an invoice it owns.
        disputes = (
            request.env["followup.dispute"]
            .sudo()
            .search(
                [
                    ("line_ids.move_id", "=", invoice_sudo.id),
                    ("partner_id", "=", invoice_sudo.commercial_partner_id.id),
                ]
            )
        )
        is_open = invoice_sudo.state == "posted" and invoice_sudo.payment_state in (
            "not_paid",
            "partial",
        )
        undisputed = (
            invoice_sudo.amount_residual - invoice_sudo.followup_disputed_amount
        )
        return {
            "followup_disputes": disputes,
            "followup_can_dispute": is_open
            and invoice_sudo.move_type in CUSTOMER_INVOICE_TYPES
            and not invoice_sudo.currency_id.is_zero(max(undisputed, 0.0)),
            "followup_can_promise": is_open
            and not invoice_sudo.followup_dispute_paused,
            "followup_undisputed": max(undisputed, 0.0),
            "followup_reasons": request.env["followup.dispute.reason"].search(
                [("portal_visible", "=", True)]
            ),
            "followup_today": invoice_sudo.company_id._followup_today(),
            "followup_promise_max": invoice_sudo._followup_promise_horizon(),
        }

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        values.update(self._followup_invoice_values(invoice))
        if kwargs.get("followup_message") == "promise":
            values["followup_success"] = _(
                "Thank you: we noted your promise to pay. We will not send reminders "
                "for this invoice until that date."
            )
        return values

    def _followup_render_error(self, invoice_sudo, message):
        values = self._invoice_get_page_view_values(invoice_sudo, None)
        values["followup_error"] = message
        return request.render("account.portal_invoice_page", values, status=400)

    # ------------------------------------------------------------------
    # Dispute an invoice / promise to pay
    # ------------------------------------------------------------------
    @http.route(
        "/my/invoices/<int:invoice_id>/dispute",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_followup_dispute(
        self, invoice_id, reason_id=None, amount=None, message=None, **kw
    ):
        try:
            invoice_sudo = self._followup_owned_invoice(invoice_id)
        except (AccessError, MissingError):
            raise request.not_found() from None
        reason = request.env["followup.dispute.reason"].search(
            [("portal_visible", "=", True), ("id", "=", _to_int(reason_id))], limit=1
        )
        attachment = kw.get("attachment")
        try:
            if not reason:
                raise UserError(_("Choose the reason of your dispute."))
            message = _CONTROL_CHARACTERS.sub("", message or "").strip()
            if not message:
                raise UserError(_("Tell us what you dispute on this invoice."))
            if len(message) > MAX_MESSAGE_CHARS:
                raise UserError(
                    _(
                        "Your message is too long (%(max)s characters at most): "
                        "attach a document for the details.",
                        max=MAX_MESSAGE_CHARS,
                    )
                )
            disputed = _to_amount(amount)
            content = attachment.read() if attachment and attachment.filename else None
            if content is not None and len(content) > MAX_ATTACHMENT_BYTES:
                raise UserError(_("The attached file is too large (10 MB at most)."))
            # A savepoint, so that a refused dispute leaves nothing behind even
            # though the error page is an ordinary (committed) response.
            with request.env.cr.savepoint():
                dispute = self._followup_open_dispute(
                    invoice_sudo, reason, disputed, message, attachment, content
                )
        except (UserError, ValidationError) as error:
            return self._followup_render_error(invoice_sudo, error.args[0])
        return request.redirect(dispute.access_url)

    def _followup_open_dispute(
        self, invoice_sudo, reason, amount, message, attachment, content
    ):
        partner = request.env.user.partner_id
        # sudo: portal users may not create disputes; ownership was checked above.
        Dispute = request.env["followup.dispute"].sudo()
        dispute = Dispute._open_dispute(
            invoice_sudo.commercial_partner_id,
            {invoice_sudo: amount},
            reason.code,
            description=message,
            origin="portal",
        )
        dispute.message_subscribe(partner_ids=partner.ids)
        attachments = request.env["ir.attachment"].sudo()
        if content is not None:
            attachments = attachments.create(
                {
                    "name": attachment.filename,
                    "raw": content,
                    # a pending attachment of the customer: message_post links it
                    # to the dispute (it refuses others from portal users)
                    "res_model": "mail.compose.message",
                    "res_id": 0,
                }
            )
        dispute.message_post(
            body=message,
            author_id=partner.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=attachments.ids,
        )
        return dispute

    @http.route(
        "/my/invoices/<int:invoice_id>/promise",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_followup_promise(self, invoice_id, promise_date=None, **kw):
        try:
            invoice_sudo = self._followup_owned_invoice(invoice_id)
        except (AccessError, MissingError):
            raise request.not_found() from None
        try:
            try:
                date = fields.Date.to_date(promise_date or None)
            except ValueError:
                date = None
            if not date:
                raise UserError(_("Enter the date you will pay by."))
            with request.env.cr.savepoint():
                invoice_sudo._followup_register_promise(
                    date, request.env.user.partner_id, user=request.env.user
                )
        except (UserError, ValidationError) as error:
            return self._followup_render_error(invoice_sudo, error.args[0])
        return request.redirect(
            f"/my/invoices/{invoice_sudo.id}?followup_message=promise"
        )

    # ------------------------------------------------------------------
    # My disputes
    # ------------------------------------------------------------------
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "followup_dispute_count" in counters:
            Dispute = request.env["followup.dispute"]
            values["followup_dispute_count"] = (
                Dispute.search_count([]) if Dispute.has_access("read") else 0
            )
        return values

    @http.route(
        ["/my/disputes", "/my/disputes/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_followup_disputes(self, page=1, **kw):
        Dispute = request.env["followup.dispute"]
        if not Dispute.has_access("read"):
            return request.redirect("/my")
        values = self._prepare_portal_layout_values()
        pager = portal_pager(
            url="/my/disputes",
            total=Dispute.search_count([]),
            page=page,
            step=self._items_per_page,
        )
        disputes = Dispute.search(
            [], limit=self._items_per_page, offset=pager["offset"], order="id desc"
        )
        request.session["my_followup_disputes_history"] = disputes.ids[:100]
        values.update(
            {
                "disputes": disputes,
                "pager": pager,
                "page_name": "followup_dispute",
                "default_url": "/my/disputes",
            }
        )
        return request.render("receivables_followup.portal_my_disputes", values)

    @http.route(
        ["/my/disputes/<int:dispute_id>"], type="http", auth="public", website=True
    )
    def portal_my_followup_dispute(self, dispute_id, access_token=None, **kw):
        if access_token and not access_token.isascii():
            # no token of ours is; Odoo's check compares it with consteq,
            # which raises on non-ASCII text
            access_token = None
        try:
            dispute_sudo = self._document_check_access(
                "followup.dispute", dispute_id, access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._get_page_view_values(
            dispute_sudo,
            access_token,
            {"page_name": "followup_dispute", "dispute": dispute_sudo},
            "my_followup_disputes_history",
            False,
            **kw,
        )
        return request.render("receivables_followup.portal_dispute_page", values)


def _to_int(value):
    """The id in a form or a link, 0 when it is none: not a number, or
    beyond PostgreSQL's integer (which fails the whole query)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 2**31 else 0


def _to_amount(value):
    """The amount typed by the customer (decimal comma and grouped thousands
    accepted); raise a UserError saying what is wrong with it."""
    try:
        return parse_amount(value)
    except AmountError as error:
        messages = {
            ERR_EMPTY: _("Enter the amount you dispute."),
            ERR_NEGATIVE: _("The disputed amount must be positive."),
            ERR_NOT_A_NUMBER: _(
                "Enter the disputed amount as a number, for example 1 500,00."
            ),
            ERR_TOO_LARGE: _("The disputed amount is far too large."),
        }
        raise UserError(messages[error.code]) from None
