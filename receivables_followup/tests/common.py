"""Fixtures of the follow-up engine tests.

The world is built once per class on top of Odoo's ``AccountTestInvoicingCommon``: a
company in EUR with a three-level policy (10, 30 and 60 days after the due date, the
third a formal notice), customers in France (French) and elsewhere (English), and
factories for invoices at a chosen due date, credit notes and payments. Time moves
with freezegun; the scheduled action is called the way Odoo's cron runner calls it.
"""

from datetime import timedelta

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class FollowupCommon(AccountTestInvoicingCommon):
    @classmethod
    def setup_independent_company(cls, **kwargs):
        # The French legal amounts are euro amounts: the test company keeps its books
        # in EUR; other currencies are invoice currencies.
        eur = cls.env.ref("base.EUR")
        eur.active = True
        return super().setup_independent_company(currency_id=eur.id, **kwargs)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.company = cls.company_data["company"]
        # a company under French law, whose follow-up day is Paris's
        cls.company.write(
            {
                "email": "ar@company.example",
                "city": "Lyon",
                "country_id": cls.env.ref("base.fr").id,
                "followup_tz": "Europe/Paris",
            }
        )
        cls.eur = cls.env.ref("base.EUR")
        cls.usd = cls.setup_other_currency("USD", rates=[("2020-01-01", 1.25)])
        cls.policy = cls._create_policy(cls.company)
        cls.level_1, cls.level_2, cls.level_3 = cls.policy.level_ids.sorted("delay")
        cls.customer_fr = cls._create_customer(
            "Dupont SARL", lang="fr_FR", country="fr"
        )
        cls.customer_be = cls._create_customer("Brussels Trading", country="be")
        cls.customer_us = cls._create_customer("Boston Imports", country="us")

    # ------------------------------------------------------------------
    # Factories
    # ------------------------------------------------------------------
    @classmethod
    def _create_policy(
        cls, company, name="Test follow-up", min_amounts=(0, 0, 0), default=True
    ):
        """A 10/30/60-day policy of ``company``, its default unless told not."""
        Policy = cls.env["followup.policy"].with_company(company)
        if default:
            Policy._default_for_company(company).is_default = False
        ref = cls.env.ref
        delays = (10, 30, 60)
        templates = (
            ref("receivables_followup.mail_template_followup_friendly"),
            ref("receivables_followup.mail_template_followup_firm"),
            ref("receivables_followup.mail_template_followup_formal_notice"),
        )
        names = ("Reminder", "Second reminder", "Formal notice")
        return Policy.create(
            {
                "name": name,
                "company_id": company.id,
                "is_default": default,
                "level_ids": [
                    Command.create(
                        {
                            "name": level_name,
                            "delay": delay,
                            "min_amount": min_amount,
                            "send_email": True,
                            "mail_template_id": template.id,
                            "is_formal_notice": delay == 60,
                        }
                    )
                    for level_name, delay, template, min_amount in zip(
                        names, delays, templates, min_amounts, strict=True
                    )
                ],
            }
        )

    @classmethod
    def _create_customer(cls, name, lang="en_US", country="us", **values):
        """A customer company with an email and a postal address."""
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "lang": lang,
                "email": f"{name.split()[0].lower()}@customer.example",
                "street": "1 Main Street",
                "zip": "10001",
                "city": "Springfield",
                "country_id": cls.env.ref(f"base.{country}").id,
                **values,
            }
        )

    @classmethod
    def _create_posted_move(cls, company, line_name, amount, **values):
        """A posted customer move of one untaxed line of ``amount``."""
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "company_id": company.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": line_name,
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                    **values,
                }
            )
        )
        move.action_post()
        return move

    @classmethod
    def _create_invoice(cls, partner, amount, due_date, currency=None, company=None):
        """A posted customer invoice of one untaxed line, due on ``due_date``."""
        company = company or cls.company
        due_date = fields.Date.to_date(due_date)
        return cls._create_posted_move(
            company,
            "Consulting",
            amount,
            move_type="out_invoice",
            partner_id=partner.id,
            invoice_date=due_date - timedelta(days=30),
            invoice_payment_term_id=False,
            invoice_date_due=due_date,
            currency_id=(currency or company.currency_id).id,
        )

    @classmethod
    def _create_credit_note(cls, partner, amount, date="2025-01-01", company=None):
        """A posted, unreconciled credit note of ``amount``."""
        return cls._create_posted_move(
            company or cls.company,
            "Refund",
            amount,
            move_type="out_refund",
            partner_id=partner.id,
            invoice_date=date,
        )

    @classmethod
    def _register_payment(cls, invoice, amount, date="2025-01-01"):
        """Pay ``amount`` of ``invoice`` (partially when below its residual)."""
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "amount": amount,
                    "payment_date": date,
                    "payment_difference_handling": "open",
                }
            )
            ._create_payments()
        )

    @classmethod
    def _create_unreconciled_payment(cls, partner, amount, date="2025-01-01"):
        """A customer payment received and posted but matched with no invoice."""
        payment = cls.env["account.payment"].create(
            {
                "amount": amount,
                "date": date,
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "journal_id": cls.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        return payment

    # ------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------
    def _cron_env(self):
        """The scheduled action's environment: the cron user (superuser), no
        context."""
        return self.env(user=SUPERUSER_ID, context={})

    def _run_followup(self, today, batch_size=None, max_calls=50):
        """Call the scheduled action on ``today`` the way Odoo's cron runner does,
        until it reports nothing remaining; return the (done, remaining) reports."""
        Run = self._cron_env()["followup.run"]
        reports = []
        with freeze_time(today):
            for _call in range(max_calls):
                done, remaining = Run._cron_run_followup(batch_size=batch_size)
                reports.append((done, remaining))
                if not remaining:
                    break
        self.env.invalidate_all()
        return reports

    # ------------------------------------------------------------------
    # Reading results
    # ------------------------------------------------------------------
    def _history(self, partner, **domain):
        return self.env["followup.history"].search(
            [("partner_id", "=", partner.id)]
            + [(key, "=", value) for key, value in domain.items()]
        )

    def _emails_to(self, partner):
        """The follow-up emails queued for ``partner``."""
        return (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("recipient_ids", "in", partner.ids),
                    ("model", "=", "res.partner"),
                    ("res_id", "=", partner.id),
                ]
            )
        )
