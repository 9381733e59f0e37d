"""Fixtures of the dispute tests.

Built once per class on Odoo's ``AccountTestInvoicingCommon``: two customer companies
each with a contact who is a portal user, follow-up users of each role, a second
company, and a factory of posted invoices at a chosen due date (1,000.00 untaxed plus
the company's default 15% sale tax: 1,150.00 due).
"""

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class DisputeCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.env["followup.policy"]._default_for_company(cls.company) or cls.env[
            "followup.policy"
        ].sudo()._create_default_policies(cls.company)
        cls.tax = cls.company_data["default_tax_sale"]
        cls.tax.write(
            {"amount": 15.0, "amount_type": "percent", "price_include": False}
        )
        cls.customer = cls._create_customer("Azure Interior")
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Alice Azure",
                "parent_id": cls.customer.id,
                "email": "alice@azure.example",
            }
        )
        cls.other_customer = cls._create_customer("Deco Addict")
        cls.other_contact = cls.env["res.partner"].create(
            {
                "name": "Bob Deco",
                "parent_id": cls.other_customer.id,
                "email": "bob@deco.example",
            }
        )
        company_ids = [Command.set(cls.company.ids)]
        cls.portal_user = new_test_user(
            cls.env,
            login="disp_portal",
            password="disp_portal_pw",
            groups="base.group_portal",
            partner_id=cls.contact.id,
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.other_portal_user = new_test_user(
            cls.env,
            login="disp_portal_other",
            password="disp_portal_other_pw",
            groups="base.group_portal",
            partner_id=cls.other_contact.id,
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.followup_user = new_test_user(
            cls.env,
            login="disp_controller",
            groups="receivables_followup.group_followup_user",
            email="controller@company.example",
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.followup_manager = new_test_user(
            cls.env,
            login="disp_manager",
            groups="receivables_followup.group_followup_manager",
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.billing_user = new_test_user(
            cls.env,
            login="disp_billing",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.customer.with_company(cls.company).collection_user_id = cls.followup_user
        cls.reason_pricing = cls.env.ref("receivables_followup.dispute_reason_pricing")
        cls.reason_quality = cls.env.ref("receivables_followup.dispute_reason_quality")

    @classmethod
    def _create_customer(cls, name, **values):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "email": f"{name.split()[0].lower()}@customer.example",
                "property_account_receivable_id": cls.company_data[
                    "default_account_receivable"
                ].id,
                **values,
            }
        )

    @classmethod
    def _create_invoice(
        cls,
        partner=None,
        amount=1000.0,
        due="2024-01-31",
        invoice_date="2024-01-01",
        company=None,
        post=True,
    ):
        """A posted customer invoice of ``amount`` untaxed (+15%), due on ``due``."""
        company = company or cls.company
        tax = cls.tax if company == cls.company else cls.env["account.tax"]
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": (partner or cls.customer).id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": due,
                    "invoice_payment_term_id": False,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Consulting",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.set(tax.ids)],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, amount=None):
        """Register a payment of ``amount`` (default: all) on the invoice."""
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "payment_date": invoice.invoice_date,
                    **({"amount": amount} if amount else {}),
                }
            )
        )
        wizard._create_payments()

    def _open(
        self, invoice, amount=None, reason="pricing", origin="internal", user=None
    ):
        """Open a dispute on ``invoice`` for ``amount`` (default: all it owes)."""
        return self.env["followup.dispute"]._open_dispute(
            invoice.partner_id,
            {invoice: amount},
            reason,
            description="The unit price is not the one we agreed.",
            origin=origin,
            user=user or self.followup_user,
        )

    def _dispute_count(self):
        return self.env["followup.dispute"].sudo().search_count([])
