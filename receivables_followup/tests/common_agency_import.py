"""Fixtures of the agency report import tests: cases handed off to the
Debitura sandbox, and reports written as the agency would send them (CSV in
French by default, or XML in the addon's namespace)."""

from ..services import agency_report
from .common_handoff import HandoffCommon

CSV_HEADER = (
    "Référence;Type;Date;Montant;Devise;Bénéficiaire;Commission;Statut;"
    "Motif de clôture;ID paiement\n"
)
NS = agency_report.NAMESPACE


class AgencyImportCommon(HandoffCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Import = cls.env["followup.agency.import"]
        cls.Payment = cls.env["followup.agency.payment"]

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _submitted_case(self, amounts, fee_rate=15.0, partner=None):
        """A case with one invoice per amount (the first the oldest), handed
        off to the sandbox; success fee ``fee_rate``."""
        invoices = [
            self._overdue_invoice(
                partner or self.customer_fr, amount, days_late=120 - 30 * i
            )
            for i, amount in enumerate(amounts)
        ]
        moves = self.env["account.move"].union(*invoices)
        case = self._hand_off(moves, send_transfer_notice=False)
        self._send_outbox()
        self.assertEqual(case.state, "submitted")
        case.sudo().success_fee_rate = fee_rate
        return case, invoices

    def _day(self):
        return self.today.strftime("%d/%m/%Y")

    def _csv(self, *lines):
        return (CSV_HEADER + "".join(f"{line}\n" for line in lines)).encode()

    def _import(self, data, name="report.csv"):
        return self.Import._import_report(self.agency, data, name)

    def _xml(self, *rows):
        body = "\n".join(rows)
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<agencyReport xmlns="{NS}" version="1">\n{body}\n</agencyReport>\n'
        ).encode()

    def _receivable(self, invoice):
        return invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
