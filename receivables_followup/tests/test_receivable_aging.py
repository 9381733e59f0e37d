"""Aged Receivables: the open receivable journal items by customer and age
bucket, in company currency, as a view and a PDF.

The view counts the ages from PostgreSQL's CURRENT_DATE, which freezegun does
not move: the fixtures are due relative to the database's today.
"""

from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..models.followup_receivable_aging import AGE_BUCKETS, bucket_amount_field
from .common import FollowupCommon

AMOUNT_FIELDS = [bucket_amount_field(bucket) for bucket, *_rest in AGE_BUCKETS]


@tagged("post_install", "-at_install")
class TestReceivableAging(FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = cls.env["followup.receivable.aging"]._today()
        cls.receivable = cls.company_data["default_account_receivable"]
        cls.followup_user = new_test_user(
            cls.env,
            login="aging_followup_user",
            groups="receivables_followup.group_followup_user",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        # Dupont: one invoice in each bucket and on each boundary; the oldest
        # partly paid; one invoiced to a contact person of the company
        for days_late, amount in (
            (-10, 100.0),
            (0, 50.0),
            (1, 200.0),
            (30, 210.0),
            (31, 300.0),
            (61, 400.0),
            (90, 450.0),
        ):
            cls._create_invoice(cls.customer_fr, amount, cls._days_ago(days_late))
        oldest = cls._create_invoice(cls.customer_fr, 500.0, cls._days_ago(91))
        cls._register_payment(oldest, 150.0, date=cls._days_ago(10))
        contact = cls.env["res.partner"].create(
            {"name": "Jean Martin", "parent_id": cls.customer_fr.id}
        )
        cls._create_invoice(contact, 60.0, cls._days_ago(120))
        # Brussels: an invoice, an open credit note and a payment applied to
        # nothing, both of which it is owed
        cls._create_invoice(cls.customer_be, 1000.0, cls._days_ago(45))
        cls._create_posted_move(
            cls.company,
            "Refund",
            250.0,
            move_type="out_refund",
            partner_id=cls.customer_be.id,
            invoice_date=cls._days_ago(5),
            invoice_date_due=cls._days_ago(5),
        )
        cls._create_unreconciled_payment(cls.customer_be, 80.0, date=cls.today)
        # Boston: 125 USD at 1.25 USD to the euro
        cls._create_invoice(cls.customer_us, 125.0, cls._days_ago(70), cls.usd)
        cls.env.flush_all()

    @classmethod
    def _days_ago(cls, days):
        return cls.today - timedelta(days=days)

    def _aging(self, user=None):
        return self.env["followup.receivable.aging"].with_user(
            user or self.followup_user
        )

    def _by_customer(self, user=None):
        """{customer: {bucket amount field: sum, amount_residual: sum}}"""
        aggregates = [f"{name}:sum" for name in AMOUNT_FIELDS + ["amount_residual"]]
        groups = self._aging(user)._read_group(
            [("company_id", "=", self.company.id)], ["partner_id"], aggregates
        )
        return {
            partner: dict(
                zip(AMOUNT_FIELDS + ["amount_residual"], amounts, strict=True)
            )
            for partner, *amounts in groups
        }

    def _expected(self, **amounts):
        return {
            name: amounts.get(name.removeprefix("amount_"), 0.0)
            for name in AMOUNT_FIELDS + ["amount_residual"]
        }

    def test_every_bucket_has_its_amount_column(self):
        Aging = self.env["followup.receivable.aging"]
        for name in AMOUNT_FIELDS:
            self.assertEqual(Aging._fields[name].type, "monetary", name)
        self.assertEqual(
            [bucket for bucket, _label in Aging._fields["age_bucket"].selection],
            [bucket for bucket, *_rest in AGE_BUCKETS],
        )

    def test_invoices_fall_in_their_age_bucket(self):
        """Due in 10 days and today: not due; 1 and 30 days late: 1-30; 31:
        31-60; 61 and 90: 61-90; 91 days late, 500 less 150 paid, and 120 days
        late, invoiced to a contact person: over 90, on the company."""
        self.assertEqual(
            self._by_customer()[self.customer_fr],
            self._expected(
                not_due=100.0 + 50.0,
                **{
                    "1_30": 200.0 + 210.0,
                    "31_60": 300.0,
                    "61_90": 400.0 + 450.0,
                    "91_plus": 350.0 + 60.0,
                },
                residual=150.0 + 410.0 + 300.0 + 850.0 + 410.0,
            ),
        )

    def test_credit_notes_and_unapplied_payments_count_negative(self):
        """The open credit note ages from its due date (5 days ago: 1-30), the
        payment applied to nothing from its date (today: not due)."""
        self.assertEqual(
            self._by_customer()[self.customer_be],
            self._expected(
                not_due=-80.0,
                **{"1_30": -250.0, "31_60": 1000.0},
                residual=1000.0 - 250.0 - 80.0,
            ),
        )

    def test_foreign_currency_invoice_counts_in_company_currency(self):
        self.assertEqual(
            self._by_customer()[self.customer_us],
            self._expected(**{"61_90": 100.0}, residual=100.0),
        )
        lines = self._aging().search([("partner_id", "=", self.customer_us.id)])
        self.assertEqual(lines.currency_id, self.eur)
        self.assertEqual(lines.age_bucket, "61_90")
        self.assertEqual(lines.days_overdue, 70)

    def test_rows_are_the_open_receivable_items(self):
        """The fully paid payment line is not a row; the rest of the paid
        invoice is, as is each open item."""
        open_lines = self.env["account.move.line"].search(
            [
                ("company_id", "=", self.company.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
            ]
        )
        rows = self._aging().search([("company_id", "=", self.company.id)])
        self.assertEqual(sorted(rows.ids), sorted(open_lines.ids))
        self.assertEqual(len(rows), 13)

    def test_total_is_the_receivable_account_balance(self):
        """The report's grand total is the sum of the receivable account's open
        items, which is the balance of all its posted lines."""
        report = self._aging()._aged_by_customer(self.company)
        total = report["totals"]["amount_residual"]
        self.assertAlmostEqual(
            sum(report["totals"][name] for name in AMOUNT_FIELDS), total
        )
        MoveLine = self.env["account.move.line"]
        [[open_residual]] = MoveLine._read_group(
            [
                ("account_id", "=", self.receivable.id),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
            ],
            aggregates=["amount_residual:sum"],
        )
        [[balance]] = MoveLine._read_group(
            [("account_id", "=", self.receivable.id), ("parent_state", "=", "posted")],
            aggregates=["balance:sum"],
        )
        self.assertAlmostEqual(total, open_residual)
        self.assertAlmostEqual(total, balance)
        self.assertAlmostEqual(total, 2120.0 + 670.0 + 100.0)

    def test_pdf_shows_each_customer_and_the_totals(self):
        report = self.env["ir.actions.report"].with_user(self.followup_user)
        html = report._render_qweb_html(
            "receivables_followup.action_report_followup_receivable_aging",
            self.company.ids,
        )[0].decode()
        for name in ("Dupont SARL", "Brussels Trading", "Boston Imports"):
            self.assertIn(name, html)
        for label in ("Not Due", "1-30 days", "Over 90 days", "Total"):
            self.assertIn(label, html)
        # Dupont's and Brussels' totals, 1-30's (410 - 250) and the grand total
        for amount in ("2,120.00", "670.00", "160.00", "2,890.00"):
            self.assertIn(amount, html)

    def test_print_menu_prints_the_current_company(self):
        action = self.env.ref(
            "receivables_followup.action_server_followup_receivable_aging_print"
        )
        result = action.with_user(self.followup_user).run()
        self.assertEqual(result["type"], "ir.actions.report")
        self.assertEqual(
            result["report_name"],
            "receivables_followup.report_followup_receivable_aging",
        )
        self.assertEqual(result["context"]["active_ids"], self.company.ids)

    def test_another_company_sees_only_its_own(self):
        other_company = self.setup_other_company(name="Aging Co")["company"]
        self._create_invoice(
            self.customer_fr, 700.0, self._days_ago(5), company=other_company
        )
        self.env.flush_all()
        outsider = new_test_user(
            self.env,
            login="aging_outsider",
            groups="receivables_followup.group_followup_user",
            company_id=other_company.id,
            company_ids=other_company.ids,
        )
        mine = self._aging().search([])
        theirs = self._aging(outsider).search([])
        self.assertEqual(mine.company_id, self.company)
        self.assertEqual(theirs.company_id, other_company)
        self.assertEqual(theirs.mapped("amount_residual"), [700.0])
        report = self._aging(outsider)._aged_by_customer(self.company)
        self.assertFalse(report["rows"])

    def test_auditor_reads_the_report_plain_user_does_not(self):
        auditor = new_test_user(
            self.env,
            login="aging_auditor",
            groups="account.group_account_readonly",
            company_id=self.company.id,
            company_ids=self.company.ids,
        )
        self.assertTrue(self._aging(auditor).search_count([]))
        plain = new_test_user(self.env, login="aging_plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self._aging(plain).search([])
