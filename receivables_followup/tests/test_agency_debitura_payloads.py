"""The Debitura adapter's payloads in plain Python, without the sandbox: the
claim and debtor bodies, the preview and the case read back, the agency's
lifecycles and close codes in our states, and the backoff of the outbox."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from odoo.tests import BaseCase, tagged

from ..services.backoff import retry_delay, should_pause_agency
from ..services.debitura import const, payloads
from .common_debitura import make_claim


@tagged("post_install", "-at_install")
class TestDebituraPayloads(BaseCase):
    # ------------------------------------------------------------------
    # the preview read back
    # ------------------------------------------------------------------
    def test_preview_lists_required_actions_and_ineligibility(self):
        preview = payloads.parse_preview(
            {
                "result": {
                    "isEligible": True,
                    "partnerAssignment": {"partnerName": "Inkasso Nord"},
                    "requiredActions": [
                        {
                            "type": "MissingPowerOfAttorney",
                            "message": "Sign the power of attorney.",
                            "solutionUrl": "https://app.example/poa",
                            "isBlocking": True,
                        }
                    ],
                    "pricingPreview": {"totalSuccessFeePercentage": 23.0},
                    "signingHandoff": {"combinedSigningUrl": "https://app.example/s"},
                }
            },
            claim_total=Decimal("1000.00"),
        )
        self.assertEqual(preview.fee_amount, 230.0)
        self.assertEqual(preview.required_actions[0].type, "MissingPowerOfAttorney")
        self.assertEqual(preview.note, "Sign the power of attorney.")
        self.assertEqual(preview.signing_url, "https://app.example/s")
        refused = payloads.parse_preview(
            {
                "isEligible": False,
                "ineligibilityReason": "No partner covers Antarctica.",
                "ineligibilityReasonCode": "NoGeographicCoverage",
            }
        )
        self.assertFalse(refused.eligible)
        self.assertEqual(refused.ineligibility_code, "NoGeographicCoverage")
        self.assertEqual(refused.note, "No partner covers Antarctica.")
        self.assertIsNone(refused.fee_amount)

    # ------------------------------------------------------------------
    # the agency's vocabulary in ours
    # ------------------------------------------------------------------
    def test_lifecycles_map_to_our_states(self):
        expected = {
            "PendingContractSigning": const.SUBMITTED,
            "PendingVerificationInternal": const.SUBMITTED,
            "PendingVerification": const.SUBMITTED,
            "NeedsAdditionalDetails": const.NEEDS_DETAILS,
            "Leads": const.SUBMITTED,
            "LeadsQuoteGiven": const.SUBMITTED,
            "Active": const.ACTIVE,
            "Paused": const.PAUSED,
            "Merged": None,
        }
        for name, state in expected.items():
            for spelling in (
                name,
                const.LIFECYCLES[name],
                const.LIFECYCLES[name].upper(),
            ):
                dto = {"id": "x", "lifecycle": spelling}
                self.assertEqual(payloads.parse_case(dto).state, state, spelling)
        self.assertIsNone(payloads.case_state("Hibernating"))
        self.assertIsNone(payloads.case_state(None))

    def test_close_codes_map_to_our_states(self):
        expected = {
            "Paid": const.CLOSED_PAID,
            "PartiallyPaid": const.CLOSED_PARTLY_PAID,
            "DebtorInsolvent": const.CLOSED_UNCOLLECTABLE,
            "DebtorUntraceable": const.CLOSED_UNCOLLECTABLE,
            "DisputedLegalActionDeclined": const.CLOSED_UNCOLLECTABLE,
            "PreLegalExhaustedNoPayment": const.CLOSED_UNCOLLECTABLE,
            "StatuteOfLimitationsExpired": const.CLOSED_UNCOLLECTABLE,
            "UneconomicalToPursue": const.CLOSED_UNCOLLECTABLE,
            "WithdrawnByClient": const.WITHDRAWN,
            "SettlementRejectedByClient": const.WITHDRAWN,
            "UnresponsiveClient": const.WITHDRAWN,
            "CaseNeverStarted": const.REJECTED,
            "CaseNeverStartedInternal": const.REJECTED,
            "InvalidCaseData": const.REJECTED,
            "NoQuotesReceived": const.REJECTED,
            "QuotesExpiredNotAccepted": const.REJECTED,
        }
        self.assertEqual(set(expected) | {"Other"}, set(const.CLOSE_CODES))
        for code, state in expected.items():
            for spelling in (code, const.CLOSE_CODES[code]):
                dto = {"lifecycle": "Closed", "closeCode": spelling}
                self.assertEqual(payloads.parse_case(dto).state, state, spelling)
        # a code that says nothing we know: the amounts decide
        closed = {"lifecycle": "Closed", "closeCode": "Other", "grossAmount": 100.0}
        for remainder, state in (
            (0.0, const.CLOSED_PAID),
            (40.0, const.CLOSED_PARTLY_PAID),
            (100.0, const.CLOSED_UNCOLLECTABLE),
        ):
            dto = {**closed, "remainder": remainder}
            self.assertEqual(payloads.parse_case(dto).state, state)
        self.assertEqual(
            payloads.case_state("Closed", "Brand New Code", remaining=None),
            const.CLOSED_UNCOLLECTABLE,
        )

    # ------------------------------------------------------------------
    # payloads
    # ------------------------------------------------------------------
    def test_amounts_have_at_most_two_decimals(self):
        self.assertEqual(payloads.money(0.1 + 0.2), 0.3)
        self.assertEqual(payloads.money(Decimal("10.005")), 10.01)
        self.assertEqual(payloads.money(2.675), 2.68)
        claim = make_claim(
            lines=[
                ("A", date(2025, 1, 1), 0.1 + 0.2),
                ("B", date(2025, 1, 2), 1 / 3),
                ("settled", date(2025, 1, 3), 0.004),
                ("credit", date(2025, 1, 4), -50.0),
            ]
        )
        body = payloads.case_body(claim)
        self.assertEqual([line["amount"] for line in body["claimLines"]], [0.3, 0.33])
        self.assertFalse(re.search(r"\d\.\d{3,}", json.dumps(body["claimLines"])))
        self.assertEqual(claim.total, 0.63)

    def test_debtor_body(self):
        body = payloads.case_body(make_claim())
        self.assertEqual(
            body["debtor"],
            {
                "type": "Company",
                "name": "Dupont Bâtiment SARL",
                "companyRegistrationNumber": "FR40303265045",
                "address": "12 rue de la Paix",
                "zipCode": "75002",
                "city": "Paris",
                "countryAlpha2": "FR",
                "email": "compta@dupont-batiment.example",
                "phone": "+33 1 23 45 67 89",
            },
        )
        person = payloads.Debtor(
            is_company=False, name="Jane Roe", city="Austin", country_code="us",
            state_code="TX", contact_person="ignored",
        )  # fmt: skip
        body = payloads.debtor_body(person)
        self.assertEqual(body["type"], "Private")
        self.assertEqual((body["countryAlpha2"], body["stateAlpha2"]), ("US", "TX"))
        self.assertNotIn("contactPerson", body)
        french = payloads.Debtor(True, "X", country_code="FR", state_code="75")
        self.assertNotIn("stateAlpha2", payloads.debtor_body(french))
        self.assertEqual(
            payloads.preview_body(payloads.case_body(make_claim(debtor=person)))[
                "debtor"
            ],
            {"type": "Private", "countryAlpha2": "US", "stateAlpha2": "TX"},
        )

    def test_claim_date_never_after_the_oldest_due_date(self):
        claim = make_claim(date=date(2025, 4, 1))
        self.assertEqual(payloads.case_body(claim)["date"], "2025-02-09")

    def test_breakdown_fits_the_comments_field(self):
        lines = [
            (f"INV/2024/{n:05d}-LONG-REFERENCE", date(2024, 1, 1) + timedelta(n), 99.99)
            for n in range(1000)
        ]
        comments = payloads.case_body(make_claim(lines=lines, comments="x" * 5000))[
            "comments"
        ]
        self.assertLessEqual(len(comments), const.MAX_COMMENTS)
        self.assertIn("INV/2024/00000-LONG-REFERENCE", comments)
        self.assertIn("more invoices", comments)
        self.assertIn("Total outstanding: 99990.00 EUR", comments)

    def test_dates_are_aware_utc(self):
        parse = payloads.parse_datetime
        self.assertEqual(
            parse("2026-01-31T15:23:45.1234567Z"),
            datetime(2026, 1, 31, 15, 23, 45, 123456, tzinfo=UTC),
        )
        self.assertEqual(parse("2026-01-31T16:23:45+01:00").hour, 15)
        self.assertEqual(parse("2026-01-31T15:23:45").tzinfo, UTC)
        self.assertIsNone(parse("yesterday"))
        self.assertIsNone(parse(None))

    # ------------------------------------------------------------------
    # backoff
    # ------------------------------------------------------------------
    def test_retry_delay_bounds(self):
        self.assertEqual(retry_delay(1, random=lambda: 0.0), 0.0)
        for attempt, ceiling in ((1, 30.0), (2, 60.0), (3, 120.0), (8, 3600.0)):
            self.assertAlmostEqual(retry_delay(attempt, random=lambda: 1.0), ceiling)
        for attempt in (1, 3, 6, 50, 10**6):
            delay = retry_delay(attempt)
            self.assertGreaterEqual(delay, 0.0)
            self.assertLessEqual(delay, 3600.0)
        self.assertEqual(retry_delay(1, retry_after=120, random=lambda: 0.0), 120.0)
        self.assertEqual(retry_delay(9, retry_after=7200, random=lambda: 1.0), 7200.0)
        self.assertEqual(retry_delay(9, retry_after=1, random=lambda: 0.5), 1800.0)
        self.assertEqual(retry_delay(2, base=5, cap=8, random=lambda: 1.0), 8.0)

    def test_should_pause_agency(self):
        self.assertFalse(should_pause_agency(2, 3))
        self.assertTrue(should_pause_agency(3, 3))
        self.assertTrue(should_pause_agency(4, 3))
        self.assertFalse(should_pause_agency(100, 0))
        self.assertFalse(should_pause_agency(100, None))
