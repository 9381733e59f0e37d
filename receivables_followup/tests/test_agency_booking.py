"""The money a collection agency collects, booked in the accounts: a case handed
off to the Debitura sandbox, payments registered there, read back through the
agency's client and booked. Every amount checked is computed by hand in the
test's docstring or comments."""

from dataclasses import replace
from datetime import date

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..services.agency_booking import (
    OpenInvoice,
    allocate,
    recipient,
    success_fee,
)
from ..services.debitura import payloads
from .common_handoff import HandoffCommon


@tagged("post_install", "-at_install")
class TestAgencyBookingRules(BaseCase):
    """Allocation and success fee, without the ORM."""

    def _invoices(self):
        return [
            OpenInvoice("new", "INV/2025/0002", date(2025, 3, 1), 500.0),
            OpenInvoice("old", "INV/2025/0001", date(2025, 1, 1), 1200.0),
            OpenInvoice("paid", "INV/2025/0003", date(2024, 1, 1), 0.0),
        ]

    def test_oldest_due_first_never_above_the_residual(self):
        allocation = allocate(1000.0, self._invoices())
        self.assertEqual(allocation.lines, [("old", 1000.0)])
        self.assertEqual(allocation.unallocated, 0.0)
        allocation = allocate(1500.0, self._invoices())
        self.assertEqual(allocation.lines, [("old", 1200.0), ("new", 300.0)])

    def test_what_no_invoice_takes_is_left_over(self):
        allocation = allocate(1800.0, self._invoices())
        self.assertEqual(allocation.lines, [("old", 1200.0), ("new", 500.0)])
        self.assertEqual(allocation.unallocated, 100.0)
        self.assertEqual(allocation.allocated, 1700.0)
        self.assertEqual(allocate(50.0, []).unallocated, 50.0)

    def test_the_invoice_named_by_the_agency_first(self):
        allocation = allocate(800.0, self._invoices(), reference=" inv/2025/0002 ")
        self.assertTrue(allocation.reference_matched)
        self.assertEqual(allocation.lines, [("new", 500.0), ("old", 300.0)])
        unknown = allocate(800.0, self._invoices(), reference="INV/1999/0001")
        self.assertFalse(unknown.reference_matched)
        self.assertEqual(unknown.lines, [("old", 800.0)])

    def test_equal_due_dates_keep_the_order_given(self):
        same = [
            OpenInvoice(1, "A", date(2025, 1, 1), 100.0),
            OpenInvoice(2, "B", date(2025, 1, 1), 100.0),
        ]
        self.assertEqual(allocate(150.0, same).lines, [(1, 100.0), (2, 50.0)])

    def test_amounts_in_the_currency_rounding(self):
        # 0.1 + 0.2 is 0.3: decimals, not floats
        parts = [
            OpenInvoice(1, "A", date(2025, 1, 1), 0.1),
            OpenInvoice(2, "B", date(2025, 2, 1), 0.2),
        ]
        allocation = allocate(0.3, parts)
        self.assertEqual(allocation.lines, [(1, 0.1), (2, 0.2)])
        self.assertEqual(allocation.unallocated, 0.0)
        yen = [OpenInvoice(1, "A", date(2025, 1, 1), 1000.0)]
        self.assertEqual(allocate(999.6, yen, rounding=1).lines, [(1, 1000.0)])
        with self.assertRaises(ValueError):
            allocate(-1.0, yen)

    def test_success_fee(self):
        self.assertEqual(success_fee(1000.0, 15.0), 150.0)
        # 333.33 * 15 % = 49.9995 -> 50.00 (half-up)
        self.assertEqual(success_fee(333.33, 15.0), 50.0)
        # 1,234.57 * 12.5 % = 154.32125 -> 154.32
        self.assertEqual(success_fee(1234.57, 12.5), 154.32)
        self.assertEqual(success_fee(1000.0, None), 0.0)
        self.assertEqual(success_fee(1001.0, 15.0, rounding=1), 150.0)
        with self.assertRaises(ValueError):
            success_fee(1000.0, -1.0)

    def test_recipients(self):
        self.assertEqual(recipient("CollectionPartner"), "agency")
        self.assertEqual(recipient("Collection Partner"), "agency")
        self.assertEqual(recipient("Creditor"), "company")
        self.assertIsNone(recipient("Someone"))
        self.assertIsNone(recipient(None))


@tagged("post_install", "-at_install")
class TestAgencyBooking(HandoffCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Payment = cls.env["followup.agency.payment"]

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _submitted_case(self, amounts, currency=None, fee_rate=15.0):
        """A case of ``customer_fr`` with one invoice per amount, the first the
        oldest (120 days late, then 60, ...), submitted to the sandbox and active
        there; its success fee set to ``fee_rate`` (the sandbox's pricing adds an
        age surcharge: the rate is fixed for hand-computed amounts)."""
        invoices = [
            self._overdue_invoice(
                self.customer_fr, amount, days_late=120 - 30 * i, currency=currency
            )
            for i, amount in enumerate(amounts)
        ]
        moves = self.env["account.move"].union(*invoices)
        case = self._hand_off(moves, send_transfer_notice=False)
        self._send_outbox()
        self.assertEqual(case.state, "submitted")
        self.sandbox.activate(case.agency_case_id)
        case.sudo().success_fee_rate = fee_rate
        return case, invoices

    def _pay(self, case, amount, recipient="CollectionPartner"):
        answer = self.sandbox.register_payment(
            case.agency_case_id, amount, recipient=recipient, date=str(self.today)
        )
        return answer["payment"]["id"]

    def _agency_payments(self, case):
        """The case's payments as the agency lists them (deleted ones left out),
        read through the agency's Debitura client."""
        with self.agency._debitura_client() as client:
            dtos = client.case_payments(case.agency_case_id)
        return [payloads.parse_payment(dto) for dto in dtos]

    def _sync(self, case):
        return self.Payment._sync_case_payments(case, self._agency_payments(case))

    def _clearing_lines(self):
        return self.env["account.move.line"].search(
            [
                ("account_id", "=", self.clearing.id),
                ("partner_id", "=", self.agency_partner.id),
                ("parent_state", "=", "posted"),
            ]
        )

    def _clearing_balance(self):
        return sum(self._clearing_lines().mapped("balance"))

    def _receivable_line(self, invoice):
        return invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    # ------------------------------------------------------------------
    # tests
    # ------------------------------------------------------------------
    def test_collected_payment_in_the_company_currency(self):
        """Invoices 1,200 and 500 EUR, 1,000 EUR collected, fee 15 %:
        receivable credit 1,000 all on the 1,200 invoice (oldest due), fee 150
        debited to the expense, the 850 the agency owes to the clearing
        account."""
        case, (old, new) = self._submitted_case([1200.0, 500.0])
        self._pay(case, 1000.0)

        created, reversed_ = self._sync(case)

        self.assertFalse(reversed_)
        self.assertRecordValues(
            created,
            [
                {
                    "state": "booked",
                    "recipient": "agency",
                    "amount": 1000.0,
                    "currency_id": self.eur.id,
                    "fee_rate": 15.0,
                    "fee_amount": 150.0,
                    "amount_unallocated": 0.0,
                    "date": self.today,
                    "method": "BankTransfer",
                }
            ],
        )
        move = created.move_id
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.journal_id, self.company_data["default_journal_misc"])
        self.assertEqual(move.date, self.today)
        receivable = self._receivable_line(old).account_id
        self.assertEqual(
            created.move_line_ids,
            move.line_ids.filtered(lambda line: line.account_id == receivable),
        )
        self.assertRecordValues(
            move.line_ids.sorted("id"),
            [
                {
                    "account_id": self.clearing.id,
                    "partner_id": self.agency_partner.id,
                    "debit": 850.0,
                    "credit": 0.0,
                },
                {
                    "account_id": self.fee_account.id,
                    "partner_id": self.agency_partner.id,
                    "debit": 150.0,
                    "credit": 0.0,
                },
                {
                    "account_id": receivable.id,
                    "partner_id": self.customer_fr.id,
                    "debit": 0.0,
                    "credit": 1000.0,
                },
            ],
        )
        self.assertRecordValues(
            old | new,
            [
                {"amount_residual": 200.0, "payment_state": "partial"},
                {"amount_residual": 500.0, "payment_state": "not_paid"},
            ],
        )
        self.assertAlmostEqual(self._clearing_balance(), 850.0)
        self.assertAlmostEqual(
            sum(self._clearing_lines().mapped("amount_residual")), 850.0
        )
        self.assertEqual(case.agency_payment_ids, created)
        self.assertTrue(
            case.message_ids.filtered(lambda m: move.name in (m.body or "")),
            "the case notes the booking",
        )
        self.assertTrue(old.message_ids.filtered(lambda m: move.name in (m.body or "")))
        self.assertFalse(
            new.message_ids.filtered(lambda m: move.name in (m.body or ""))
        )

    def test_collected_more_than_the_invoices(self):
        """1,800 EUR collected on invoices of 1,200 and 500: both paid, 100 left
        as an unmatched credit of the debtor; fee 15 % = 270, the agency owes
        1,530."""
        case, (old, new) = self._submitted_case([1200.0, 500.0])
        self._pay(case, 1800.0)

        created, _reversed = self._sync(case)

        self.assertRecordValues(
            created, [{"fee_amount": 270.0, "amount_unallocated": 100.0}]
        )
        self.assertRecordValues(
            old | new,
            [
                {"amount_residual": 0.0, "payment_state": "paid"},
                {"amount_residual": 0.0, "payment_state": "paid"},
            ],
        )
        credits = created.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(sorted(credits.mapped("credit")), [100.0, 500.0, 1200.0])
        leftover = credits.filtered(lambda line: line.credit == 100.0)
        self.assertFalse(leftover.reconciled)
        self.assertEqual(leftover.partner_id, self.customer_fr)
        self.assertAlmostEqual(self._clearing_balance(), 1530.0)
        self.assertTrue(
            case.message_ids.filtered(
                lambda m: "matched no open invoice" in (m.body or "")
            )
        )

    def test_the_invoice_the_agency_names_is_settled_first(self):
        """700 EUR collected for the 500 invoice: 500 settle it, the 200 left go
        to the oldest one (1,200 -> 1,000)."""
        case, (old, new) = self._submitted_case([1200.0, 500.0])
        self._pay(case, 700.0)
        payments = [
            replace(payment, invoice_reference=new.name)
            for payment in self._agency_payments(case)
        ]

        created, _reversed = self.Payment._sync_case_payments(case, payments)

        self.assertEqual(created.invoice_reference, new.name)
        self.assertAlmostEqual(new.amount_residual, 0.0)
        self.assertAlmostEqual(old.amount_residual, 1000.0)

    def test_collected_payment_in_a_foreign_currency(self):
        """Invoices of 1,200 and 500 USD issued at 1.25 USD per EUR (960 and
        400 EUR); 1,000 USD collected today at 2 USD per EUR = 500 EUR; fee 15 %
        = 150 USD = 75 EUR. The invoice's 1,000 USD settled were 800 EUR: Odoo
        books an exchange loss of 300 EUR; 200 USD (160 EUR) remain due; the
        agency owes 850 USD = 425 EUR."""
        self.env["res.currency.rate"].create(
            {
                "name": self.today,
                "rate": 2.0,
                "currency_id": self.usd.id,
                "company_id": self.company.id,
            }
        )
        case, (old, new) = self._submitted_case([1200.0, 500.0], currency=self.usd)
        self.assertEqual(case.currency_id, self.usd)
        self.assertAlmostEqual(old.amount_total_signed, 960.0)
        self._pay(case, 1000.0)

        created, _reversed = self._sync(case)

        self.assertRecordValues(
            created,
            [{"currency_id": self.usd.id, "amount": 1000.0, "fee_amount": 150.0}],
        )
        move = created.move_id
        self.assertEqual(move.currency_id, self.usd)
        self.assertRecordValues(
            move.line_ids.sorted("id"),
            [
                {
                    "account_id": self.clearing.id,
                    "amount_currency": 850.0,
                    "debit": 425.0,
                    "credit": 0.0,
                },
                {
                    "account_id": self.fee_account.id,
                    "amount_currency": 150.0,
                    "debit": 75.0,
                    "credit": 0.0,
                },
                {
                    "account_id": self._receivable_line(old).account_id.id,
                    "amount_currency": -1000.0,
                    "debit": 0.0,
                    "credit": 500.0,
                },
            ],
        )
        receivable = self._receivable_line(old)
        self.assertRecordValues(
            receivable,
            [{"amount_residual_currency": 200.0, "amount_residual": 160.0}],
        )
        self.assertAlmostEqual(old.amount_residual, 200.0)
        self.assertAlmostEqual(new.amount_residual, 500.0)
        exchange = receivable.matched_credit_ids.exchange_move_id
        self.assertEqual(len(exchange), 1, "Odoo books the exchange difference")
        loss = exchange.line_ids.filtered(
            lambda line: line.account_id
            == self.company.expense_currency_exchange_account_id
        )
        self.assertAlmostEqual(loss.debit, 300.0)
        self.assertAlmostEqual(self._clearing_balance(), 425.0)
        self.assertAlmostEqual(
            sum(self._clearing_lines().mapped("amount_currency")), 850.0
        )

    def test_syncing_twice_books_once(self):
        case, (old, _new) = self._submitted_case([1200.0, 500.0])
        self._pay(case, 1000.0)
        created, _reversed = self._sync(case)
        entries = self.env["account.move"].search_count([])

        again, gone = self._sync(case)

        self.assertFalse(again)
        self.assertFalse(gone)
        self.assertEqual(self.env["account.move"].search_count([]), entries)
        self.assertEqual(case.agency_payment_ids, created)
        self.assertAlmostEqual(old.amount_residual, 200.0)
        # a second record of the same agency payment is refused by the database
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.Payment.sudo().create(
                {
                    "agency_id": self.agency.id,
                    "case_id": case.id,
                    "company_id": self.company.id,
                    "agency_payment_id": created.agency_payment_id,
                    "amount": 1000.0,
                    "currency_id": self.eur.id,
                    "recipient": "agency",
                }
            )

    def test_payment_deleted_at_the_agency_is_reversed(self):
        case, (old, new) = self._submitted_case([1200.0, 500.0])
        first = self._pay(case, 1000.0)
        self._pay(case, 300.0)
        created, _reversed = self._sync(case)
        self.assertEqual(len(created), 2)
        # 1,000 then 300 on the oldest invoice: 1,200 settled, 100 on the other
        self.assertAlmostEqual(old.amount_residual, 0.0)
        self.assertAlmostEqual(new.amount_residual, 400.0)
        deleted = created.filtered(lambda p: p.agency_payment_id == first)

        self.sandbox.delete_payment(case.agency_case_id, first)
        new_ones, reversed_ = self._sync(case)

        self.assertFalse(new_ones)
        self.assertEqual(reversed_, deleted)
        self.assertEqual(deleted.state, "reversed")
        # the receivable credit of 1,000 debited back, the fee of 150 and the
        # 850 owed by the agency credited
        reversal = deleted.reversal_move_id
        self.assertEqual(reversal.state, "posted")
        self.assertRecordValues(
            reversal.line_ids.sorted("id"),
            [
                {
                    "account_id": deleted.move_line_ids.account_id.id,
                    "debit": 1000.0,
                    "credit": 0.0,
                },
                {"account_id": self.fee_account.id, "debit": 0.0, "credit": 150.0},
                {"account_id": self.clearing.id, "debit": 0.0, "credit": 850.0},
            ],
        )
        self.assertTrue(deleted.move_line_ids.reconciled)
        self.assertAlmostEqual(old.amount_residual, 1000.0)
        self.assertEqual(old.payment_state, "partial")
        self.assertAlmostEqual(new.amount_residual, 400.0)
        # only the 300 payment's net amount stays owed: 300 - 45
        self.assertAlmostEqual(self._clearing_balance(), 255.0)
        self.assertTrue(
            old.message_ids.filtered(lambda m: "open again" in (m.body or ""))
        )
        # nothing more on the next sync
        self.assertEqual(self._sync(case), (self.Payment, self.Payment))

    def test_explicit_deletion_reverses_once(self):
        case, (old,) = self._submitted_case([1200.0])
        payment_id = self._pay(case, 1000.0)
        self._sync(case)
        self.assertAlmostEqual(old.amount_residual, 200.0)

        reversed_ = self.Payment._reverse_agency_payment(case, payment_id)

        self.assertEqual(reversed_.state, "reversed")
        self.assertAlmostEqual(old.amount_residual, 1200.0)
        self.assertEqual(old.payment_state, "not_paid")
        self.assertAlmostEqual(self._clearing_balance(), 0.0)
        self.assertFalse(self.Payment._reverse_agency_payment(case, payment_id))
        self.assertFalse(self.Payment._reverse_agency_payment(case, "unknown"))
        # a late list still naming it books nothing again
        self.assertEqual(self._sync(case), (self.Payment, self.Payment))

    def test_payment_to_the_creditor_is_recorded_not_booked(self):
        case, (old,) = self._submitted_case([1200.0])
        entries = self.env["account.move"].search_count([])
        self._pay(case, 400.0, recipient="Creditor")

        created, _reversed = self._sync(case)

        self.assertRecordValues(
            created,
            [{"state": "recorded", "recipient": "company", "move_id": False}],
        )
        self.assertEqual(self.env["account.move"].search_count([]), entries)
        self.assertAlmostEqual(old.amount_residual, 1200.0)
        self.assertTrue(
            case.message_ids.filtered(lambda m: "directly" in (m.body or ""))
        )

    def test_net_remittance_clears_the_agency(self):
        """1,000 EUR collected, fee 150: the agency remits 850 to the company's
        bank; the statement line matched with the clearing balance leaves the
        clearing account at zero for the agency."""
        case, _invoices = self._submitted_case([1200.0, 500.0])
        self._pay(case, 1000.0)
        created, _reversed = self._sync(case)
        self.assertAlmostEqual(self._clearing_balance(), 850.0)
        st_line = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.company_data["default_journal_bank"].id,
                "date": self.today,
                "payment_ref": f"Debitura remittance {case.agency_reference}",
                "partner_id": self.agency_partner.id,
                "amount": 850.0,
            }
        )
        self.assertFalse(st_line.is_reconciled)

        matched = self.agency._reconcile_remittance(st_line)

        self.assertTrue(st_line.is_reconciled)
        self.assertEqual(
            matched,
            created.move_id.line_ids.filtered(
                lambda line: line.account_id == self.clearing and line.debit
            ),
        )
        lines = self._clearing_lines()
        self.assertEqual(len(lines), 2, "collected net of the fee, remittance")
        self.assertAlmostEqual(sum(lines.mapped("balance")), 0.0)
        self.assertTrue(all(lines.mapped("reconciled")))
        self.assertEqual(len(lines.full_reconcile_id), 1)

    def test_remittance_matched_from_the_bank_lines_list(self):
        case, _invoices = self._submitted_case([1200.0, 500.0])
        self._pay(case, 1000.0)
        self._sync(case)
        st_line = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.company_data["default_journal_bank"].id,
                "date": self.today,
                "payment_ref": "Remittance",
                "partner_id": self.agency_partner.id,
                "amount": 850.0,
            }
        )
        other = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.company_data["default_journal_bank"].id,
                "date": self.today,
                "payment_ref": "A customer",
                "partner_id": self.customer_be.id,
                "amount": 10.0,
            }
        )
        (st_line | other).action_followup_match_agency_remittance()
        self.assertTrue(st_line.is_reconciled)
        self.assertFalse(other.is_reconciled, "not an agency's line")
        self.assertAlmostEqual(self._clearing_balance(), 0.0)
        with self.assertRaises(UserError):
            other.action_followup_match_agency_remittance()

    def test_missing_accounting_is_explained(self):
        case, (old,) = self._submitted_case([1200.0])
        self._pay(case, 1000.0)
        self.agency.clearing_account_id = False
        with self.assertRaisesRegex(UserError, "Agency Clearing Account"):
            self._sync(case)
        self.assertFalse(self.Payment.search_count([("case_id", "=", case.id)]))
        self.assertAlmostEqual(old.amount_residual, 1200.0)

    def test_clearing_account_must_be_reconcilable(self):
        plain = self.clearing.copy({"code": "467200", "reconcile": False})
        with self.assertRaises(ValidationError):
            self.agency.clearing_account_id = plain

    def test_followup_user_reads_payments_only(self):
        case, _invoices = self._submitted_case([1200.0])
        self._pay(case, 1000.0)
        created, _reversed = self._sync(case)
        user = new_test_user(
            self.env,
            login="payment_reader",
            groups="account.group_account_invoice,receivables_followup.group_followup_user",
            company_id=self.company.id,
        )
        as_user = case.with_user(user)
        self.assertEqual(as_user.agency_payment_ids.amount, 1000.0)
        with self.assertRaises(AccessError):
            self.Payment.with_user(user).create(
                {
                    "agency_id": self.agency.id,
                    "case_id": case.id,
                    "company_id": self.company.id,
                    "agency_payment_id": "forged",
                    "amount": 1.0,
                    "currency_id": self.eur.id,
                    "recipient": "agency",
                }
            )
        with self.assertRaises(AccessError):
            created.with_user(user).unlink()

    def test_forms_show_the_payments_and_the_accounting(self):
        case_form = self.env["followup.agency.case"].get_view(view_type="form")
        self.assertIn('name="agency_payment_ids"', case_form["arch"])
        agency_form = self.env["followup.agency"].get_view(view_type="form")
        for name in ("journal_id", "clearing_account_id", "fee_account_id"):
            self.assertIn(f'name="{name}"', agency_form["arch"])
        self.assertEqual(
            self.agency.journal_id,
            self.company_data["default_journal_misc"],
            "the company's miscellaneous journal by default",
        )
