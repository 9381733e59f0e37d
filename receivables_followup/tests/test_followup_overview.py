"""The overview's key figures against values computed by hand on a small fixed
ledger, its cards' counts for "mine" and "everyone", and the KPI functions."""

from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from ..services import kpi
from .common import FollowupCommon

TODAY = "2025-06-15 10:00:00"
#: what the overview tour logs to have a screenshot taken
SCREENSHOT_MARK = "receivables_followup:screenshot:"


@tagged("post_install", "-at_install")
class TestKpiFunctions(FollowupCommon):
    def test_countback_goes_back_month_by_month(self):
        # 15,000 owed; sales of 1,000 this month (15 days), then 2,000, 3,000,
        # 4,000, nothing, 5,000: five months and a half used up, then all of
        # January's 31 days
        periods = [(15, 1000), (31, 2000), (30, 3000), (31, 4000), (28, 0), (31, 5000)]
        self.assertEqual(kpi.dso_countback(15000, periods), 166)
        # part of a month: 1,500 of May's 2,000 over its 31 days
        self.assertAlmostEqual(kpi.dso_countback(2500, periods), 15 + 31 * 0.75)
        self.assertEqual(kpi.dso_countback(0, periods), 0)
        self.assertIsNone(kpi.dso_countback(10**6, periods))

    def test_age_buckets(self):
        self.assertEqual(
            [kpi.age_bucket(days) for days in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)],
            [
                "not_due",
                "not_due",
                "1_30",
                "1_30",
                "31_60",
                "31_60",
                "61_90",
                "61_90",
                "91_plus",
                "91_plus",
            ],
        )


class OverviewCommon(FollowupCommon):
    """A small fixed ledger: one invoice per age bucket on 2025-06-15."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # one invoice per age bucket on 2025-06-15; each invoice is dated 30
        # days before its due date, so each month has one sale
        cls.not_due = cls._create_invoice(cls.customer_fr, 1000, "2025-07-01")
        cls.late_10 = cls._create_invoice(cls.customer_fr, 2000, "2025-06-05")
        cls.late_45 = cls._create_invoice(cls.customer_be, 3000, "2025-05-01")
        cls.late_75 = cls._create_invoice(cls.customer_be, 4000, "2025-04-01")
        cls.late_120 = cls._create_invoice(cls.customer_us, 5000, "2025-02-15")
        group_user = cls.env.ref("receivables_followup.group_followup_user")
        cls.controller = cls.env["res.users"].create(
            {
                "name": "Camille Credit",
                "login": "camille_overview",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [
                    Command.set([cls.env.ref("base.group_user").id, group_user.id])
                ],
            }
        )
        cls.manager = cls.env["res.users"].create(
            {
                "name": "Marc Manager",
                "login": "marc_overview",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref(
                                "receivables_followup.group_followup_manager"
                            ).id,
                        ]
                    )
                ],
            }
        )
        cls.customer_fr.with_company(
            cls.company
        ).sudo().collection_user_id = cls.controller


@tagged("post_install", "-at_install")
class TestFollowupOverview(OverviewCommon):
    def _overview(self, user, scope="mine", dso_months=12):
        with freeze_time(TODAY):
            return (
                self.env["followup.overview"]
                .with_user(user)
                .with_company(self.company)
                .get_overview(scope, dso_months)
            )

    def _figure(self, overview, key):
        return next(f for f in overview["kpis"]["figures"] if f["key"] == key)

    def _plain(self, text):
        return text.replace("\N{NO-BREAK SPACE}", " ").replace(
            "\N{NARROW NO-BREAK SPACE}", " "
        )

    def test_ageing_and_totals_computed_by_hand(self):
        overview = self._overview(self.manager, "everyone")
        buckets = {
            b["key"]: self._plain(b["value"]) for b in overview["kpis"]["buckets"]
        }
        self.assertEqual(
            buckets,
            {
                "not_due": "1,000.00 €",
                "1_30": "2,000.00 €",
                "31_60": "3,000.00 €",
                "61_90": "4,000.00 €",
                "91_plus": "5,000.00 €",
            },
        )
        self.assertEqual(
            self._plain(self._figure(overview, "receivable")["value"]), "15,000.00 €"
        )
        overdue = self._figure(overview, "overdue")
        self.assertEqual(self._plain(overdue["value"]), "14,000.00 €")
        self.assertEqual(overdue["share"], 93.3)
        # the same countback as computed by hand above
        self.assertEqual(self._figure(overview, "dso")["value"], "166 days")
        # the period chosen: three months of sales do not cover the receivables
        short = self._overview(self.manager, "everyone", dso_months=3)
        self.assertEqual(self._figure(short, "dso")["value"], "over 3 months")
        self.assertEqual(
            self._figure(self._overview(self.manager, "everyone", 6), "dso")["value"],
            "166 days",
        )
        # any other period is the default's
        self.assertEqual(self._overview(self.manager, "everyone", 5)["dso_months"], 12)
        for figure in overview["kpis"]["figures"]:
            self.assertTrue(figure["definition"], figure["key"])

    def test_ageing_total_is_the_receivable_accounts_balance(self):
        self._register_payment(self.late_45, 500.0, date="2025-05-10")
        self._create_unreconciled_payment(self.customer_be, 250.0, date="2025-06-01")
        overview = self._overview(self.manager, "everyone")
        balance = self.env["account.move.line"]._read_group(
            [
                ("company_id", "=", self.company.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
            ],
            [],
            ["balance:sum"],
        )[0][0]
        self.assertAlmostEqual(balance, 15000 - 500 - 250)
        self.assertEqual(
            self._plain(self._figure(overview, "receivable")["value"]), "14,250.00 €"
        )
        buckets = {
            b["key"]: self._plain(b["value"]) for b in overview["kpis"]["buckets"]
        }
        # the payment of June 1st, unmatched, is 14 days old
        self.assertEqual(buckets["1_30"], "1,750.00 €")
        self.assertEqual(buckets["31_60"], "2,500.00 €")

    def test_overdue_by_level_after_a_run(self):
        self._run_followup(TODAY)
        overview = self._overview(self.manager, "everyone")
        levels = {
            level["label"]: (level["count"], self._plain(level["value"]))
            for level in overview["kpis"]["levels"]
        }
        overdue = self.late_10 | self.late_45 | self.late_75 | self.late_120
        expected = {}
        for level, invoices in overdue.grouped("followup_level_id").items():
            self.assertTrue(level, "every overdue invoice was reminded")
            expected[level.name] = (
                len(invoices),
                f"{sum(invoices.mapped('amount_residual')):,.2f} €",
            )
        self.assertEqual(levels, expected)

    def test_cards_count_mine_and_everyones_work(self):
        with freeze_time(TODAY):
            self.late_10._followup_register_promise(
                date(2025, 6, 18), self.customer_fr, user=self.env.user
            )
            self.late_45.sudo().write({"followup_answered_until": date(2025, 6, 20)})
            self.customer_be.with_company(
                self.company
            ).sudo().collection_user_id = self.manager
        mine = {c["key"]: c["count"] for c in self._overview(self.controller)["cards"]}
        self.assertEqual(mine["promises_due"], 1)
        self.assertEqual(mine["answered"], 0, "Brussels Trading is not Camille's")
        # the promise's check is an activity for its responsible, due on the 18th
        self.assertEqual(mine["promises_broken"], 0)
        everyone = {
            c["key"]: c["count"]
            for c in self._overview(self.manager, "everyone")["cards"]
        }
        self.assertEqual(everyone["promises_due"], 1)
        self.assertEqual(everyone["answered"], 1)
        # a plain user asking for everyone's work gets its own
        self.assertEqual(self._overview(self.controller, "everyone")["scope"], "mine")

    def test_promises_kept_broken_and_replaced(self):
        with freeze_time("2025-06-10 10:00:00"):
            for invoice, day in (
                (self.late_10, 12),
                (self.late_45, 13),
                (self.late_75, 14),
                (self.late_75, 20),
            ):
                invoice._followup_register_promise(
                    date(2025, 6, day), invoice.partner_id, user=self.env.user
                )
        self._register_payment(self.late_10, 2000.0, date="2025-06-11")
        # the daily run of the 15th closes what it can
        self._run_followup(TODAY)
        Promise = self.env["followup.promise"]
        states = {
            (promise.move_id, promise.date_promised.day): promise.state
            for promise in Promise.search([])
        }
        self.assertEqual(
            states,
            {
                (self.late_10, 12): "kept",
                (self.late_45, 13): "broken",
                (self.late_75, 14): "replaced",
                (self.late_75, 20): "open",
            },
        )
        kept = self._figure(self._overview(self.manager, "everyone"), "promises_kept")
        self.assertEqual(self._plain(kept["value"]), "2,000.00 €")
        # 2,000 kept of the 5,000 closed
        self.assertEqual(kept["share"], 40.0)
        self.assertEqual(self._plain(kept["detail"]), "3,000.00 € broken")

    def test_cards_open_their_lists(self):
        overview = self._overview(self.manager, "everyone")
        for card in overview["cards"]:
            action = card["action"]
            records = self.env[action["res_model"]].search_count(action["domain"])
            self.assertEqual(records, card["count"], card["key"])

    def test_overview_is_for_follow_up_users(self):
        billing = self.env["res.users"].create(
            {
                "name": "Bill Billing",
                "login": "bill_overview",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            self._overview(billing)


@tagged("post_install", "-at_install")
class TestFollowupOverviewUi(OverviewCommon, HttpCase):
    """The overview in headless Chromium: cards, key figures, the switch to
    everyone's work and a drill-down; screenshots saved with the test output
    (Odoo's --screenshots directory)."""

    def test_overview_tour_with_screenshots(self):
        admin = self.env.ref("base.user_admin")
        admin.write(
            {
                "company_ids": [Command.link(self.company.id)],
                "company_id": self.company.id,
                "groups_id": [
                    Command.link(
                        self.env.ref("receivables_followup.group_followup_manager").id
                    )
                ],
            }
        )
        self.customer_fr.with_company(self.company).sudo().collection_user_id = admin
        today = fields.Date.today()
        self.late_10._followup_register_promise(
            today + timedelta(days=3), self.customer_fr, user=self.env.user
        )
        self.late_45.sudo().write(
            {"followup_answered_until": today + timedelta(days=5)}
        )
        taken = []
        original = ChromeBrowser._handle_console

        def handle_console(browser, type, args=None, **kw):  # noqa: A002 - CDP's name
            text = str(browser._from_remoteobject(args[0])) if args else ""
            if text.startswith(SCREENSHOT_MARK):
                name = text[len(SCREENSHOT_MARK) :]
                taken.append(name)
                browser.take_screenshot(prefix=f"followup_{name}_")
            return original(browser, type, args=args, **kw)

        with patch.object(ChromeBrowser, "_handle_console", handle_console):
            self.start_tour(
                "/odoo/action-receivables_followup.action_followup_overview",
                "receivables_followup_overview_tour",
                login="admin",
            )
        self.assertEqual(taken, ["overview", "promises"])
