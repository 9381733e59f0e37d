from odoo import models
from odoo.tools import formataddr

#: A4 less the letter paper format's 20 mm side margins
LETTER_PRINTABLE_WIDTH_MM = 170


class FollowupHistoryAddress(models.AbstractModel):
    """Who writes and who receives: the reminder's signature and reply-to
    address, and the letter's address blocks and where its envelope window
    falls."""

    _name = "followup.history.address"
    _description = "Follow-up Action: Sender and Recipient"

    def _followup_signature(self):
        self.ensure_one()
        responsible = self.responsible_user_id
        if responsible:
            return f"{responsible.name}, {self.company_id.name}"
        return self.company_id.name

    def _followup_reply_tos(self):
        """{company: the address its customers' answers go to}: the company's
        catchall, so that Odoo's mail gateway files each answer in the
        customer's thread, beside the reminder it answers (where the company
        has no alias domain, answers go to the sender's mailbox)."""
        return {
            company: formataddr((company.name, company.alias_domain_id.catchall_email))
            for company in self.company_id
            if company.alias_domain_id.catchall_email
        }

    def _followup_postal_partner(self):
        """The contact whose address the letter carries: the invoicing contact's
        when it has a full postal address, else the customer's."""
        self.ensure_one()
        recipient = self.recipient_id
        if recipient and recipient != self.partner_id:
            if recipient._followup_has_postal_address():
                return recipient
        return self.partner_id

    def _followup_postal_lines(self):
        """The recipient's address block, line by line, in its country's format:
        the customer's name, the contact to the attention of, then the address."""
        self.ensure_one()
        postal = self._followup_postal_partner()
        lines = [self.partner_id.name]
        if postal != self.partner_id and postal.name:
            lines.append(postal.name)
        elif self.recipient_id and self.recipient_id != self.partner_id:
            lines.append(self.recipient_id.name)
        lines += [
            line
            for line in postal._display_address(without_company=True).split("\n")
            if line.strip()
        ]
        return lines

    def _followup_company_lines(self):
        """The sender's address and identifiers under the letterhead."""
        self.ensure_one()
        company = self.company_id
        lines = [
            line
            for line in company.partner_id._display_address(without_company=True).split(
                "\n"
            )
            if line.strip()
        ]
        if company.vat:
            lines.append(self.env._("VAT: %(vat)s", vat=company.vat))
        lines += [value for value in (company.phone, company.email) if value]
        return lines

    def _followup_letter_window(self):
        """Where the address block goes on the letter's printable area (A4 with
        20 mm side margins: 170 mm wide, from 15 mm below the top edge), as
        percentages of that width: on the right for French and Swiss DL
        envelopes (text from 105 mm across and 52 mm down the page), on the left
        for German DIN 5008 ones (from 25 mm across and 62 mm down, below the
        return-address zone). The letter's text starts at 100 mm down the page.
        """
        self.ensure_one()

        def percent(millimetres):
            return round(millimetres / LETTER_PRINTABLE_WIDTH_MM * 100, 2)

        if self.company_id.followup_letter_window == "left":
            left, top = 25 - 20, 62 - 15
        else:
            left, top = 105 - 20, 52 - 15
        return {"left": percent(left), "top": percent(top), "body_top": percent(85)}

    def _followup_letter_address_missing(self):
        """Whether no postal address lets this action's letter be posted."""
        self.ensure_one()
        return not self._followup_postal_partner()._followup_has_postal_address()
