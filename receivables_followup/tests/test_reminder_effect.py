"""Which reminders work: what was paid of each reminder's claim within 7 and 30
days, and the median days to payment, per level; reminders sent by the engine,
payments registered at chosen dates."""

from odoo.tests import new_test_user, tagged

from .common import FollowupCommon


@tagged("post_install", "-at_install")
class TestReminderEffect(FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.followup_user = new_test_user(
            cls.env,
            login="effect_user",
            groups="receivables_followup.group_followup_user",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )

    def _effect(self, invoice, level=None):
        """The effect row of ``invoice``'s reminder (at ``level``)."""
        domain = [("move_id", "=", invoice.id)]
        if level:
            domain.append(("level_id", "=", level.id))
        return self.env["followup.reminder.effect"].search(domain)

    def _remind_and_pay(self):
        """Four invoices due on 1 January, reminded at level 1 on the 11th:

        - A 1,000 paid on the 14th (3 days after);
        - B 2,000 half paid on the 31st (20 days after);
        - C 500 paid on 15 February (35 days after), after a level 2 reminder;
        - D 400 paid on the 21st (10 days after).

        B (1,000 left) and C are reminded at level 2 on 1 February; C is paid 14
        days after it, B never.
        """
        invoices = {
            name: self._create_invoice(self.customer_fr, amount, "2025-01-01")
            for name, amount in (("A", 1000.0), ("B", 2000.0), ("C", 500.0))
        }
        invoices["D"] = self._create_invoice(self.customer_fr, 400.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self._register_payment(invoices["A"], 1000.0, "2025-01-14")
        self._register_payment(invoices["D"], 400.0, "2025-01-21")
        self._register_payment(invoices["B"], 1000.0, "2025-01-31")
        self._run_followup("2025-02-01")
        self._register_payment(invoices["C"], 500.0, "2025-02-15")
        self.env.flush_all()
        return invoices

    def test_each_reminded_invoice_has_its_payments_within_7_and_30_days(self):
        invoices = self._remind_and_pay()
        expected = {
            # invoice: (claimed, paid within 7, within 30, days to payment)
            "A": (1000.0, 1000.0, 1000.0, 3),
            "B": (2000.0, 0.0, 1000.0, 0),
            "C": (500.0, 0.0, 0.0, 35),
            "D": (400.0, 0.0, 400.0, 10),
        }
        for name, values in expected.items():
            row = self._effect(invoices[name], self.level_1)
            self.assertEqual(len(row), 1, name)
            self.assertEqual(row.date.isoformat(), "2025-01-11", name)
            self.assertEqual(
                (
                    row.amount_claimed,
                    row.amount_paid_7,
                    row.amount_paid_30,
                    row.days_to_payment,
                ),
                values,
                name,
            )
        self.assertFalse(self._effect(invoices["B"], self.level_1).paid_after)
        self.assertTrue(self._effect(invoices["A"]).paid_within_7)
        self.assertTrue(self._effect(invoices["D"]).paid_within_30)
        self.assertFalse(self._effect(invoices["D"]).paid_within_7)
        self.assertFalse(self._effect(invoices["B"], self.level_1).paid_within_30)
        self.assertEqual(
            self._effect(invoices["C"], self.level_1).date_paid.isoformat(),
            "2025-02-15",
        )

    def test_level_summary_is_a_ratio_of_sums_with_the_median_of_paid(self):
        """Level 1 claimed 3,900 and got 1,000 within 7 days (25.64 %), 2,400
        within 30 (61.54 %); A, D and C were paid 3, 10 and 35 days after it:
        median 10. Level 2 claimed B's 1,000 left and C's 500; B's half paid the
        day before does not count; C paid 14 days after: 0 % within 7 days,
        33.33 % within 30, median 14."""
        self._remind_and_pay()
        summary = (
            self.env["followup.reminder.effect"]
            .with_user(self.followup_user)
            ._level_summary([("company_id", "=", self.company.id)])
        )
        self.assertEqual(list(summary), [self.level_1, self.level_2])
        level_1, level_2 = summary[self.level_1], summary[self.level_2]
        self.assertEqual(level_1["reminder_count"], 4)
        self.assertAlmostEqual(level_1["amount_claimed"], 3900.0)
        self.assertAlmostEqual(level_1["amount_paid_7"], 1000.0)
        self.assertAlmostEqual(level_1["amount_paid_30"], 2400.0)
        self.assertAlmostEqual(level_1["share_7"], 100.0 * 1000 / 3900)
        self.assertAlmostEqual(level_1["share_30"], 100.0 * 2400 / 3900)
        self.assertAlmostEqual(level_1["median_days"], 10.0)
        self.assertEqual(level_2["reminder_count"], 2)
        self.assertAlmostEqual(level_2["amount_claimed"], 1500.0)
        self.assertAlmostEqual(level_2["amount_paid_7"], 0.0)
        self.assertAlmostEqual(level_2["amount_paid_30"], 500.0)
        self.assertAlmostEqual(level_2["share_7"], 0.0)
        self.assertAlmostEqual(level_2["share_30"], 100.0 * 500 / 1500)
        self.assertAlmostEqual(level_2["median_days"], 14.0)

    def test_level_summary_of_a_domain(self):
        """Limited to A and B, level 1's median is A's 3 days (B is open)."""
        invoices = self._remind_and_pay()
        summary = self.env["followup.reminder.effect"]._level_summary(
            [("move_id", "in", (invoices["A"] | invoices["B"]).ids)]
        )
        self.assertAlmostEqual(summary[self.level_1]["amount_claimed"], 3000.0)
        self.assertAlmostEqual(summary[self.level_1]["median_days"], 3.0)
        self.assertIsNone(summary[self.level_2]["median_days"])

    def test_level_report_shows_the_summary(self):
        self._remind_and_pay()
        Level = self.env["followup.reminder.effect.level"].with_user(self.followup_user)
        rows = Level.search([("policy_id", "=", self.policy.id)])
        self.assertEqual(rows.level_id, self.level_1 | self.level_2)
        row_1 = rows.filtered(lambda row: row.level_id == self.level_1)
        self.assertAlmostEqual(row_1.amount_claimed, 3900.0)
        self.assertAlmostEqual(row_1.amount_paid_30, 2400.0)
        self.assertAlmostEqual(row_1.share_7, 25.6, places=1)
        self.assertAlmostEqual(row_1.share_30, 61.5, places=1)
        self.assertAlmostEqual(row_1.median_days, 10.0)
        action = row_1.action_open_reminders()
        self.assertEqual(
            self.env["followup.reminder.effect"].search_count(action["domain"]), 4
        )

    def test_monthly_trend_per_level(self):
        """January's reminders are level 1's, February's level 2's."""
        self._remind_and_pay()
        rows = self.env["followup.reminder.effect.month"].search(
            [("policy_id", "=", self.policy.id)]
        )
        self.assertEqual(
            {
                (row.month.isoformat(), row.level_id): (
                    row.amount_claimed,
                    round(row.share_30, 2),
                    row.median_days,
                )
                for row in rows
            },
            {
                ("2025-01-01", self.level_1): (3900.0, 61.54, 10.0),
                ("2025-02-01", self.level_2): (1500.0, 33.33, 14.0),
            },
        )
        groups = self.env["followup.reminder.effect"]._read_group(
            [("policy_id", "=", self.policy.id)],
            ["date:month", "level_id"],
            ["amount_claimed:sum", "amount_paid_7:sum", "amount_paid_30:sum"],
        )
        self.assertEqual(
            [
                (level, claimed, paid_7, paid_30)
                for _m, level, claimed, paid_7, paid_30 in groups
            ],
            [
                (self.level_1, 3900.0, 1000.0, 2400.0),
                (self.level_2, 1500.0, 0.0, 500.0),
            ],
        )

    def test_payment_before_the_reminder_does_not_count(self):
        """300 of 1,000 paid before the reminder: it claims 700; of the 200 paid
        two days after it, 200 count, not 500."""
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._register_payment(invoice, 300.0, "2025-01-05")
        self._run_followup("2025-01-11")
        self._register_payment(invoice, 200.0, "2025-01-13")
        self.env.flush_all()
        row = self._effect(invoice)
        self.assertEqual(row.amount_claimed, 700.0)
        self.assertEqual(row.amount_paid_7, 200.0)
        self.assertFalse(row.paid_within_7)
        self.assertFalse(row.paid_after)

    def test_paid_amount_is_capped_at_the_claim(self):
        """Paid in full after a partial payment before the reminder: the
        reminder got its 700, not the invoice's 1,000; paid 5 days after it."""
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._register_payment(invoice, 300.0, "2025-01-05")
        self._run_followup("2025-01-11")
        self._register_payment(invoice, 700.0, "2025-01-16")
        self.env.flush_all()
        row = self._effect(invoice)
        self.assertEqual((row.amount_paid_7, row.amount_paid_30), (700.0, 700.0))
        self.assertTrue(row.paid_within_7)
        self.assertEqual(row.days_to_payment, 5)

    def _record_payments_at(self, invoice, hours):
        """Date the recording of ``invoice``'s reconciliations ``hours`` after
        its reminder's: a test runs in one transaction, its records all created
        at the same time (the engine's under the frozen clock)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE account_partial_reconcile p
               SET create_date = h.create_date + make_interval(hours => %s)
              FROM account_move_line aml, followup_history_line l
              JOIN followup_history h ON h.id = l.history_id
             WHERE p.debit_move_id = aml.id
               AND aml.move_id = %s
               AND l.move_id = aml.move_id
            """,
            [hours, invoice.id],
        )

    def test_payment_of_the_reminder_day_recorded_before_it_does_not_count(self):
        """Reconciled before the reminder went out, the day's 300 were left out
        of the claim: only the next day's 100 count."""
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._register_payment(invoice, 300.0, "2025-01-11")
        self._run_followup("2025-01-11")
        self._register_payment(invoice, 100.0, "2025-01-12")
        self._record_payments_at(invoice, -1)
        row = self._effect(invoice)
        self.assertEqual(row.amount_claimed, 700.0)
        self.assertEqual(row.amount_paid_7, 100.0)

    def test_payment_of_the_reminder_day_recorded_after_it_counts(self):
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self._register_payment(invoice, 1000.0, "2025-01-11")
        self._record_payments_at(invoice, 1)
        row = self._effect(invoice)
        self.assertEqual(row.amount_paid_7, 1000.0)
        self.assertTrue(row.paid_within_7)
        self.assertTrue(row.paid_after)
        self.assertEqual(row.days_to_payment, 0)

    def test_foreign_currency_invoice_counts_in_company_currency(self):
        """1,250 USD at 1.25: 1,000 EUR claimed, 1,000 EUR paid."""
        invoice = self._create_invoice(
            self.customer_us, 1250.0, "2025-01-01", currency=self.usd
        )
        self._run_followup("2025-01-11")
        self._register_payment(invoice, 1250.0, "2025-01-15")
        self.env.flush_all()
        row = self._effect(invoice)
        self.assertEqual(row.currency_id, self.eur)
        self.assertAlmostEqual(row.amount_claimed, 1000.0)
        self.assertAlmostEqual(row.amount_paid_7, 1000.0)
        self.assertEqual(row.days_to_payment, 4)

    def test_reminders_not_sent_are_left_out(self):
        self.level_1.manual_review = True
        invoice = self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._run_followup("2025-01-11")
        self.assertEqual(self._history(self.customer_be).state, "to_review")
        self.env.flush_all()
        self.assertFalse(self._effect(invoice))

    def test_another_company_sees_none(self):
        company_2 = self.setup_other_company(name="Effect Co")["company"]
        company_2.email = "ar@effect.example"
        policy_2 = self._create_policy(company_2, "Effect Co policy")
        self._create_invoice(self.customer_be, 1000.0, "2025-01-01")
        self._create_invoice(self.customer_be, 700.0, "2025-01-01", company=company_2)
        self._run_followup("2025-01-11")
        self.env.flush_all()
        outsider = new_test_user(
            self.env,
            login="effect_outsider",
            groups="receivables_followup.group_followup_user",
            company_id=company_2.id,
            company_ids=company_2.ids,
        )
        for model in (
            "followup.reminder.effect",
            "followup.reminder.effect.level",
            "followup.reminder.effect.month",
        ):
            mine = self.env[model].with_user(self.followup_user).search([])
            theirs = self.env[model].with_user(outsider).search([])
            self.assertEqual(mine.company_id, self.company, model)
            self.assertEqual(theirs.company_id, company_2, model)
            self.assertEqual(theirs.level_id.policy_id, policy_2, model)
        summary = (
            self.env["followup.reminder.effect"]
            .with_user(self.followup_user)
            ._level_summary()
        )
        self.assertEqual(list(summary), [self.level_1])
        self.assertAlmostEqual(summary[self.level_1]["amount_claimed"], 1000.0)

    def test_reports_are_under_invoicing_reporting_for_followup_users(self):
        menu = self.env.ref("receivables_followup.menu_followup_reporting")
        self.assertEqual(menu.parent_id, self.env.ref("account.menu_finance_reports"))
        visible = (
            self.env["ir.ui.menu"].with_user(self.followup_user)._visible_menu_ids()
        )
        for xml_id in (
            "menu_followup_reporting",
            "menu_followup_reminder_effect_level",
            "menu_followup_reminder_effect_month",
            "menu_followup_reminder_effect",
        ):
            self.assertIn(
                self.env.ref(f"receivables_followup.{xml_id}").id, visible, xml_id
            )
        billing_user = new_test_user(
            self.env, login="effect_billing", groups="account.group_account_invoice"
        )
        self.assertNotIn(
            menu.id, self.env["ir.ui.menu"].with_user(billing_user)._visible_menu_ids()
        )
