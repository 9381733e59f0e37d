"""What the customer reads: amounts in the invoices' currency, one message a run,
credits counted once, and late-payment law only where it applies.

The company keeps its books in US dollars and invoices French customers in euros,
as the run command's demo does.
"""

from datetime import date

from odoo import Command
from odoo.tests import tagged
from odoo.tools.misc import formatLang

from .common import FollowupCommon

TODAY = "2025-01-20 12:00:00"


def _plain(html):
    """The text of an email body with its no-break spaces made plain."""
    return (
        str(html)
        .replace("&nbsp;", " ")
        .replace("\N{NO-BREAK SPACE}", " ")
        .replace("\N{NARROW NO-BREAK SPACE}", " ")
    )


@tagged("post_install", "-at_install")
class TestDollarCompanyEuroCustomer(FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.us_company = cls.setup_other_company(
            name="Dollar Co",
            currency_id=cls.usd.id,
            country_id=cls.env.ref("base.us").id,
        )["company"]
        cls.us_company.write(
            {"email": "ar@dollar.example", "followup_tz": "America/New_York"}
        )
        # 1 USD = 0.80 EUR in the dollar company's books
        cls.env["res.currency.rate"].create(
            {
                "name": "2020-01-01",
                "rate": 0.8,
                "currency_id": cls.eur.id,
                "company_id": cls.us_company.id,
            }
        )
        cls.us_policy = cls._create_policy(cls.us_company, "Dollar policy")
        cls.us_level_1, cls.us_level_2, _formal = cls.us_policy.level_ids.sorted(
            "delay"
        )
        cls.us_bank = (
            cls.env["account.journal"]
            .with_company(cls.us_company)
            .search([("type", "=", "bank"), ("company_id", "=", cls.us_company.id)])[:1]
        )

    def _euro_invoice(self, partner, amount, due):
        return self._create_invoice(
            partner, amount, due, currency=self.eur, company=self.us_company
        )

    def _euro_payment(self, partner, amount):
        payment = (
            self.env["account.payment"]
            .with_company(self.us_company)
            .create(
                {
                    "amount": amount,
                    "date": "2025-01-02",
                    "currency_id": self.eur.id,
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                    "journal_id": self.us_bank.id,
                }
            )
        )
        payment.action_post()
        return payment

    def _us_history(self, partner):
        return self.env["followup.history"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.us_company.id)]
        )

    def test_reminder_asks_for_the_euro_total_of_euro_invoices(self):
        self._euro_invoice(self.customer_fr, 20000.0, "2025-01-05")
        self._euro_invoice(self.customer_fr, 6900.0, "2025-01-05")
        self._run_followup(TODAY)
        body = _plain(self._emails_to(self.customer_fr).body_html)
        self.assertIn("26 900,00 €", body)
        self.assertNotIn("$", body)
        history = self._us_history(self.customer_fr)
        self.assertEqual(_plain(history.claim_summary), "26 900,00 €")
        # the accountants' column stays in the company's dollars
        self.assertAlmostEqual(history.amount_claimed, 33625.0)

    def test_one_message_for_invoices_at_two_levels_claims_the_net_owed_once(self):
        """Northwind: 990 EUR due for the first reminder, 4,000 EUR for the second,
        1,500 EUR paid and not matched: one email asking 3,490 EUR."""
        first = self._euro_invoice(self.customer_be, 990.0, "2025-01-09")
        second = self._euro_invoice(self.customer_be, 4000.0, "2024-12-10")
        second._followup_mark_performed(self.us_level_1, date(2024, 12, 20), {})
        self._euro_payment(self.customer_be, 1500.0)
        self._run_followup(TODAY)
        emails = self._emails_to(self.customer_be)
        self.assertEqual(len(emails), 1)
        body = _plain(emails.body_html)
        self.assertIn(
            formatLang(self.env, 3490.0, currency_obj=self.eur).replace("\xa0", " "),
            body,
        )
        history = self._us_history(self.customer_be)
        self.assertEqual(history.level_id, self.us_level_2)
        self.assertEqual(
            {line.move_id: line.level_id for line in history.line_ids},
            {first: self.us_level_1, second: self.us_level_2},
        )
        self.assertEqual(first.followup_level_id, self.us_level_1)
        self.assertEqual(second.followup_level_id, self.us_level_2)
        self.assertAlmostEqual(sum(history.line_ids.mapped("amount_claimed")), 3490.0)

    def test_each_currency_is_claimed_in_its_own_total(self):
        self._euro_invoice(self.customer_be, 1000.0, "2025-01-05")
        self._create_invoice(
            self.customer_be, 500.0, "2025-01-05", company=self.us_company
        )
        self._run_followup(TODAY)
        body = _plain(self._emails_to(self.customer_be).body_html)
        euros = formatLang(self.env, 1000.0, currency_obj=self.eur).replace("\xa0", " ")
        dollars = formatLang(self.env, 500.0, currency_obj=self.usd).replace(
            "\xa0", " "
        )
        self.assertIn(f"{euros} and {dollars}", body)

    def test_invoices_list_never_adds_currencies_in_its_groups(self):
        """The overdue invoices list groups by level: only company-currency amounts
        are aggregated there."""
        view = self.env.ref("receivables_followup.account_move_view_list_followup")
        moves = self.env["account.move"]
        arch = moves.get_view(view.id, "list")["arch"]
        fields_info = moves.fields_get()
        shown = {
            name
            for name in fields_info
            if f'name="{name}"' in arch and fields_info[name].get("aggregator")
        }
        for name in shown:
            if fields_info[name]["type"] == "monetary":
                currency_field = moves._fields[name].get_currency_field(moves)
                self.assertEqual(currency_field, "company_currency_id", name)

    def test_customer_tab_shows_the_customers_currency(self):
        self._euro_invoice(self.customer_fr, 500.0, "2025-01-05")
        partner = self.customer_fr.with_company(self.us_company)
        self.assertEqual(partner.collection_currency_id, self.eur)
        self.assertAlmostEqual(partner.collection_amount_due, 500.0)


@tagged("post_install", "-at_install")
class TestLateFeesOnlyWhereTheLawApplies(FollowupCommon):
    """Formal notice at 60 days on 2025-07-14 for invoices due 2025-05-15."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_de = cls._create_customer("Hansen GmbH", country="de")

    def _formal_notice(self, partner, currency=None):
        invoice = self._create_invoice(partner, 1000.0, "2025-05-15", currency=currency)
        invoice._followup_mark_performed(self.level_2, date(2025, 6, 14), {})
        self._run_followup("2025-07-14")
        return self._history(partner)

    def test_german_customer_gets_no_french_late_fees(self):
        history = self._formal_notice(self.customer_de)
        self.assertEqual(history.level_id, self.level_3)
        self.assertFalse(history.legal_regime)
        self.assertFalse(history.interest_amount or history.indemnity_amount)
        body = self._emails_to(self.customer_de).body_html
        self.assertNotIn("L441-10", body)
        self.assertNotIn("recovery indemnity", body)

    def test_consumer_gets_no_late_fees(self):
        consumer = self._create_customer("Marie Curie", country="fr", is_company=False)
        self.assertFalse(self._formal_notice(consumer).legal_regime)

    def test_eu_option_claims_the_directive_from_other_eu_customers(self):
        self.policy.legal_amounts_scope = "eu"
        history = self._formal_notice(self.customer_de)
        self.assertEqual(history.legal_regime, "eu")
        body = self._emails_to(self.customer_de).body_html
        self.assertIn("2011/7/EU", body)
        self.assertNotIn("L441-10", body)
        # 16 May - 30 June at 3.15 + 8 = 11.15 %, 1 - 14 July at 2.15 + 8 = 10.15 %
        expected = round(1000 * (0.1115 * 46 + 0.1015 * 14) / 365, 2)
        self.assertAlmostEqual(history.line_ids.interest_amount, expected)
        self.assertAlmostEqual(history.indemnity_amount, 40.0)

    def test_policy_may_claim_french_law_from_every_business_customer(self):
        self.policy.legal_amounts_scope = "all"
        self.assertEqual(self._formal_notice(self.customer_de).legal_regime, "fr")

    def test_dollar_invoice_gets_its_interest_in_dollars_and_a_converted_indemnity(
        self,
    ):
        history = self._formal_notice(self.customer_fr, currency=self.usd)
        line = history.line_ids
        self.assertEqual(line.currency_id, self.usd)
        # 1 EUR = 1.25 USD in the test company
        self.assertAlmostEqual(line.indemnity_amount, 50.0)
        self.assertAlmostEqual(history.indemnity_amount, 40.0)
        body = _plain(self._emails_to(self.customer_fr).body_html)
        self.assertIn("convertie en USD", body)
        self.assertIn("$ 50,00", body)

    def test_legal_invoice_is_in_the_invoices_currency(self):
        self.company.followup_invoice_legal_amounts = True
        history = self._formal_notice(self.customer_fr, currency=self.usd)
        self.assertEqual(history.legal_invoice_ids.currency_id, self.usd)
        self.assertAlmostEqual(
            history.legal_invoice_ids.amount_total,
            history.line_ids.interest_amount + 50.0,
        )


@tagged("post_install", "-at_install")
class TestCustomerPositionInItsCurrency(FollowupCommon):
    def test_several_currencies_are_listed_apart(self):
        self._create_invoice(self.customer_be, 100.0, "2025-01-01")
        self._create_invoice(self.customer_be, 50.0, "2025-01-01", currency=self.usd)
        partner = self.customer_be.with_company(self.company)
        self.assertEqual(partner.collection_currency_id, self.company.currency_id)
        self.assertIn("USD", partner.collection_due_by_currency)
        self.assertIn("EUR", partner.collection_due_by_currency)

    def test_promise_and_dispute_lines_are_unaffected(self):
        invoice = self._create_invoice(self.customer_be, 100.0, "2025-01-01")
        dispute = self.env["followup.dispute"].create(
            {
                "partner_id": self.customer_be.id,
                "reason_id": self.env["followup.dispute.reason"].search([], limit=1).id,
                "line_ids": [Command.create({"move_id": invoice.id, "amount": 60.0})],
            }
        )
        self.assertEqual(dispute.dispute_currency_id, self.eur)
        self.assertAlmostEqual(dispute.amount_disputed_currency, 60.0)


@tagged("post_install", "-at_install")
class TestMergedMessageChannels(FollowupCommon):
    """A customer's one message when its highest level writes to nobody."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.handoff = cls.env["followup.level"].create(
            {
                "policy_id": cls.policy.id,
                "name": "Agency proposal",
                "delay": 90,
                "send_email": False,
                "propose_agency_handoff": True,
            }
        )

    def test_invoices_at_a_reminder_level_still_get_their_email(self):
        fresh = self._create_invoice(self.customer_be, 200.0, "2025-04-01")
        old = self._create_invoice(self.customer_be, 900.0, "2025-01-01")
        old._followup_mark_performed(self.level_3, date(2025, 3, 2), {})
        self._run_followup("2025-04-12")
        history = self._history(self.customer_be)
        self.assertEqual(history.level_id, self.handoff)
        self.assertTrue(history.proposed_handoff)
        self.assertTrue(history.sent_email)
        body = self._emails_to(self.customer_be).body_html
        self.assertIn(fresh.name, body)
        self.assertIn(old.name, body)
        self.assertEqual(fresh.followup_level_id, self.level_1)
        self.assertEqual(old.followup_level_id, self.handoff)
