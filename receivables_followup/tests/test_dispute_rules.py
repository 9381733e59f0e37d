from odoo.tests import BaseCase, tagged

from ..services import dispute as rules


@tagged("post_install", "-at_install")
class TestDisputeRules(BaseCase):
    """The plain rules of the dispute workflow, without a database."""

    def test_review_only_from_open(self):
        self.assertIsNone(rules.transition_error("open", "under_review"))
        self.assertEqual(
            rules.transition_error("resolved", "under_review"), rules.ERR_TRANSITION
        )

    def test_close_only_an_active_dispute(self):
        for target in ("resolved", "cancelled"):
            self.assertIsNone(rules.transition_error("open", target))
            self.assertIsNone(rules.transition_error("under_review", target))
            self.assertEqual(
                rules.transition_error("cancelled", target), rules.ERR_TRANSITION
            )

    def test_nothing_goes_back_to_open(self):
        self.assertEqual(
            rules.transition_error("under_review", "open"), rules.ERR_TRANSITION
        )

    def test_amount_must_be_positive(self):
        self.assertEqual(rules.amount_error(0.0, 100.0), rules.ERR_AMOUNT_NOT_POSITIVE)
        self.assertEqual(rules.amount_error(-1.0, 100.0), rules.ERR_AMOUNT_NOT_POSITIVE)

    def test_amount_within_undisputed_residual(self):
        self.assertIsNone(rules.amount_error(100.0, 100.0))
        self.assertIsNone(rules.amount_error(40.0, 100.0, already_disputed=60.0))
        self.assertEqual(
            rules.amount_error(40.01, 100.0, already_disputed=60.0),
            rules.ERR_AMOUNT_TOO_LARGE,
        )

    def test_invoice_must_be_an_open_posted_customer_invoice_of_the_customer(self):
        ok = {
            "move_type": "out_invoice",
            "state": "posted",
            "payment_state": "partial",
            "partner_id": 7,
            "dispute_partner_id": 7,
        }
        self.assertIsNone(rules.invoice_error(**ok))
        cases = {
            rules.ERR_INVOICE_NOT_CUSTOMER: {"move_type": "out_refund"},
            rules.ERR_INVOICE_NOT_POSTED: {"state": "draft"},
            rules.ERR_INVOICE_CLOSED: {"payment_state": "paid"},
            rules.ERR_INVOICE_OTHER_PARTNER: {"partner_id": 8},
        }
        for error, change in cases.items():
            self.assertEqual(rules.invoice_error(**{**ok, **change}), error)

    def test_rejection_needs_a_reason_and_credit_note_resolution_a_credit_note(self):
        self.assertEqual(
            rules.resolution_error("rejected", "  "), rules.ERR_REJECTION_REASON
        )
        self.assertIsNone(rules.resolution_error("rejected", "Delivered."))
        self.assertEqual(
            rules.resolution_error("credit_note"), rules.ERR_NO_CREDIT_NOTE
        )
        self.assertIsNone(rules.resolution_error("credit_note", credit_note_count=1))
        self.assertIsNone(rules.resolution_error("correction"))
        self.assertEqual(rules.resolution_error("maybe"), rules.ERR_UNKNOWN_RESOLUTION)
