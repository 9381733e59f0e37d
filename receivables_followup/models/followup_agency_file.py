from markupsafe import Markup

from odoo import Command, _, api, fields, models, release
from odoo.exceptions import UserError, ValidationError
from odoo.modules.module import get_manifest

from ..services import agency_errors, case_file
from ..services.agency_errors import AgencyError
from ..services.debitura import const
from ..services.debitura.payloads import AgencyCase, AgencyPreview

FILE = "file"
MODULE = "receivables_followup"


class FollowupAgency(models.Model):
    """The adapter of the agencies without an API: each hand-off becomes a case
    file (an XML per debtor, validated against ``schemas/case_file.xsd``, zipped
    with the invoice PDFs), attached to the case and, when the agency wants it,
    e-mailed to its address. The case is "submitted" once the file exists; the
    agency's reports come back through an import."""

    _inherit = "followup.agency"  # pylint: disable=consider-merging-classes-inherited

    code = fields.Selection(
        selection_add=[(FILE, "Case files (XML)")],
        ondelete={FILE: "set default"},
    )
    file_email = fields.Char(
        string="Agency E-mail",
        tracking=True,
        help="Where the case files are e-mailed, when they are.",
    )
    file_send_email = fields.Boolean(
        string="Send the Case File by E-mail",
        tracking=True,
        help="E-mail each case file, with the invoice PDFs, to the agency's "
        "address as soon as it is produced. Otherwise download it from the case "
        "and upload it on the agency's portal.",
    )

    @api.constrains("code", "file_send_email", "file_email")
    def _check_file_email(self):
        for agency in self:
            if agency.code == FILE and agency.file_send_email and not agency.file_email:
                raise ValidationError(
                    _(
                        "Give the agency's e-mail address to send it the case "
                        "files (%s).",
                        agency.name,
                    )
                )

    # ------------------------------------------------------------------
    # adapter
    # ------------------------------------------------------------------
    def _agency_is_connected(self):
        if self.code != FILE:
            return super()._agency_is_connected()
        return False

    def _agency_uploads_documents(self):
        if self.code != FILE:
            return super()._agency_uploads_documents()
        return False  # the PDFs are in the case file's zip

    def _agency_request_documents(self, request):
        if self.code != FILE:
            return super()._agency_request_documents(request)
        if request.kind == "create" and self.send_documents:
            return request.case_id.line_ids.move_id
        return self.env["account.move"]

    def _agency_check_connection(self):
        if self.code != FILE:
            return super()._agency_check_connection()
        raise UserError(
            _(
                "The agency %s takes case files: there is no connection to test.",
                self.name,
            )
        )

    def _agency_preview(self, claims, timeout=None):
        """No one to ask: every claim is taken, at the default success fee."""
        if self.code != FILE:
            return super()._agency_preview(claims, timeout=timeout)
        rate = self.default_fee_rate or 0.0
        note = _("Sent as a case file, downloadable from the case.")
        return [
            AgencyPreview(
                eligible=True,
                partner_name=None,
                fee_rate=rate,
                fee_amount=round(claim.total * rate / 100.0, 2),
                note=note,
            )
            for claim in claims
        ]

    def _agency_execute(self, request, documents=None):
        if self.code != FILE:
            return super()._agency_execute(request, documents=documents)
        if request.kind == "message" and self.file_email:
            return self._file_send_message(request)
        if request.kind != "create":
            raise AgencyError(
                agency_errors.VALIDATION,
                _(
                    "The agency %(agency)s takes case files only: send it this "
                    "yourself (%(request)s).",
                    agency=self.name,
                    request=request.display_name,
                ),
            )
        return self._file_produce(request.case_id, documents or {})

    def _file_send_message(self, request):
        """A message for an agency without an API goes by e-mail."""
        case = request.case_id
        self.env["mail.mail"].sudo().create(
            {
                "subject": _(
                    "Case %(reference)s: a message from %(company)s",
                    reference=case.agency_reference or case.creditor_reference,
                    company=case.company_id.name,
                ),
                "body_html": Markup("<p>%s</p>") % request.message,
                "email_to": self.file_email,
                "email_from": case.user_id.email_formatted
                or case.company_id.email_formatted,
                "model": case._name,
                "res_id": case.id,
                "auto_delete": False,
            }
        )
        return {
            "note": _("Message e-mailed to the agency (%s).", self.file_email),
        }

    # ------------------------------------------------------------------
    # the case file
    # ------------------------------------------------------------------
    def _file_produce(self, case, documents):
        """Build, validate and zip the case file of ``case``, attach it to the
        case and e-mail it when the agency wants it.

        :param documents: ``{move_id: (content, extension)}`` rendered by the
            outbox for its batch
        :returns: the request's result: the case submitted, and a note
        :raises AgencyError: (validation) a PDF missing or a file that does not
            follow the schema; nothing is attached or sent then
        """
        self.ensure_one()
        reference = case.creditor_reference
        lines = case.line_ids.sorted(lambda line: (line.due_date, line.id))
        names, packed = self._file_documents(lines, documents)
        xml = self._file_render(case, lines, names)
        content = case_file.pack(f"{reference}.xml", xml, packed)
        attachment = self._file_attach(case, content)
        note = self._file_send(case, attachment)
        # the agency knows the case by our reference until its first report
        change = AgencyCase(
            agency_id=reference,
            reference=None,
            creditor_reference=reference,
            lifecycle=None,
            close_code=None,
            state=const.SUBMITTED,
        )
        return {"agency_case": change, "note": note}

    def _file_documents(self, lines, documents):
        """The invoice PDFs to pack with the case file, when the agency wants
        them.

        :param documents: ``{move_id: (content, extension)}`` from the outbox
        :returns: ``({move_id: name in the zip}, [(name, content)])``
        :raises AgencyError: (validation) an invoice whose PDF was not rendered
        """
        names, packed = {}, []
        if not self.send_documents:
            return names, packed
        for move in lines.move_id:
            content, extension = documents.get(move.id) or (None, None)
            if extension != "pdf":
                raise AgencyError(
                    agency_errors.VALIDATION,
                    _(
                        "The PDF of %s could not be rendered (is wkhtmltopdf "
                        "installed?).",
                        move.name,
                    ),
                )
            name = case_file.document_name(move.name, "pdf", taken=names.values())
            names[move.id] = name
            packed.append((name, content))
        return names, packed

    def _file_render(self, case, lines, document_names):
        """The case file's XML, validated against its schema.

        :raises AgencyError: (validation) the schema's errors, listed
        """
        try:
            return case_file.render(self._file_values(case, lines, document_names))
        except case_file.CaseFileError as error:
            raise AgencyError(
                agency_errors.VALIDATION,
                _(
                    "The case file of %(case)s does not follow its schema and is "
                    "not offered: %(errors)s",
                    case=case.name,
                    errors="; ".join(error.errors),
                ),
            ) from None

    def _file_attach(self, case, content):
        """Attach the zipped case file to ``case``; return the attachment."""
        reference = case.creditor_reference
        # sudo: the outbox runs as the cron's user; the attachment belongs to
        # the case and is read through the case's access rights
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{reference}.zip",
                    "raw": content,
                    "mimetype": "application/zip",
                    "res_model": case._name,
                    "res_id": case.id,
                    "company_id": case.company_id.id,
                }
            )
        )
        case.sudo().write({"case_file_id": attachment.id})
        return attachment

    def _file_send(self, case, attachment):
        """E-mail the case file when the agency wants it; return the note of
        the request's result."""
        if not (self.file_send_email and self.file_email):
            return _("Case file %s produced.", attachment.name)
        self.env.ref(
            "receivables_followup.mail_template_agency_case_file"
        ).sudo().send_mail(
            case.id, email_values={"attachment_ids": [Command.link(attachment.id)]}
        )
        return _(
            "Case file %(file)s produced and e-mailed to %(email)s.",
            file=attachment.name,
            email=self.file_email,
        )

    def _file_values(self, case, lines, document_names):
        """The case file of ``case`` as plain values (``case_file.CaseFile``)."""
        notices = self._file_formal_notices(lines.move_id)
        currency = case.currency_id.name
        return case_file.CaseFile(
            created=fields.Datetime.now(),
            creditor_reference=case.creditor_reference,
            software=(
                f"Odoo {release.major_version} {MODULE} "
                f"{get_manifest(MODULE).get('version', '')}"
            ).strip(),
            creditor=self._file_creditor(case),
            debtor=self._file_debtor(case, lines),
            currency=currency,
            handed_on=case.date_handed or fields.Date.context_today(case),
            lines=[
                case_file.Line(
                    invoice_number=line.move_id.name,
                    invoice_date=line.move_id.invoice_date,
                    due_date=line.due_date,
                    currency=currency,
                    original_amount=line.move_id.amount_total,
                    amount_outstanding=line.amount_handed,
                    formal_notice=notices.get(line.move_id.id),
                    document=document_names.get(line.move_id.id),
                )
                for line in lines
            ],
            note=case.note or None,
            is_test=case.is_test,
        )

    def _file_creditor(self, case):
        """The creditor of the case file: the case's company, and its
        responsible as the contact."""
        company = case.company_id
        return case_file.Party(
            name=company.name,
            address=_address(company.partner_id),
            vat=company.vat or "",
            registration_number=company.company_registry or "",
            email=company.email or "",
            phone=company.phone or "",
            contact_name=case.user_id.name or "",
            contact_email=case.user_id.email or "",
        )

    def _file_debtor(self, case, lines):
        """The debtor of the case file: the case's partner, reached through
        the invoices' contact when they were addressed to one."""
        debtor = case.partner_id
        contact = lines.move_id.partner_id[:1] or debtor
        return case_file.Party(
            name=debtor.name or "",
            address=_address(debtor),
            is_company=debtor.is_company,
            vat=debtor.vat or "",
            registration_number=debtor.company_registry or "",
            email=contact.email or debtor.email or "",
            phone=contact.phone or debtor.phone or "",
            contact_name=contact.name if contact != debtor else "",
        )

    def _file_formal_notices(self, moves):
        """{move id: ``case_file.FormalNotice``}: the late-payment amounts of
        the last formal notice sent for each invoice that had one."""
        # sudo: the follow-up history is the engine's, read here for the
        # amounts it claimed; the case's reader may not read every action
        notice_lines = (
            self.env["followup.history.line"]
            .sudo()
            .search(
                [
                    ("move_id", "in", moves.ids),
                    ("history_id.state", "=", "done"),
                    ("history_id.legal_regime", "!=", False),
                ]
            )
        )
        notices = {}
        for line in notice_lines.sorted(
            lambda line: (line.history_id.date, line.history_id.id)
        ):
            notices[line.move_id.id] = case_file.FormalNotice(
                date=line.history_id.date,
                legal_basis=line.history_id.legal_regime,
                interest=line.interest_amount,
                indemnity=line.indemnity_amount,
            )
        return notices


def _address(partner):
    return case_file.Address(
        country_code=partner.country_id.code or "",
        street=partner.street or "",
        street2=partner.street2 or "",
        zip=partner.zip or "",
        city=partner.city or "",
        state=partner.state_id.name or "",
    )
