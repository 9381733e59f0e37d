"""One follow-up day per company, in the company's time zone, whoever asks.

The company works in Brussels (UTC+1 in January). At 23:30 UTC on 10 January it
is already 11 January in Brussels: the scheduled action (its user in Brussels) and
an administrator whose browser says UTC must agree that the follow-up day is the
11th.
"""

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import FollowupCommon

BEFORE_MIDNIGHT_UTC = "2025-01-10 23:30:00"  # 00:30 on the 11th in Brussels
LATE_ON_THE_11TH_UTC = "2025-01-11 22:30:00"  # 23:30 on the 11th in Brussels
AFTER_MIDNIGHT_BRUSSELS = "2025-01-11 23:10:00"  # 00:10 on the 12th in Brussels


@tagged("post_install", "-at_install")
class TestFollowupDay(FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.followup_tz = "Europe/Brussels"
        cls.invoice = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")

        def user(login, tz):
            return new_test_user(
                cls.env,
                login=login,
                tz=tz,
                groups="base.group_user,receivables_followup.group_followup_user",
                company_id=cls.company.id,
                company_ids=[cls.company.id],
            )

        cls.user_utc = user("fu_utc", "UTC")
        cls.user_new_york = user("fu_ny", "America/New_York")

    def _runs(self):
        return self.env["followup.run"].search([("company_id", "=", self.company.id)])

    def _press_run_now(self, user, when):
        with freeze_time(when):
            self.env["followup.run"].with_user(user).action_run_followup()

    def test_company_day_is_the_same_for_every_user(self):
        with freeze_time(BEFORE_MIDNIGHT_UTC):
            days = {
                self.company.with_user(user)._followup_today()
                for user in (self.user_utc, self.user_new_york)
            }
        self.assertEqual({str(day) for day in days}, {"2025-01-11"})

    def test_user_in_utc_and_scheduled_action_make_one_run(self):
        self._press_run_now(self.user_utc, BEFORE_MIDNIGHT_UTC)
        self._run_followup(BEFORE_MIDNIGHT_UTC)
        self._press_run_now(self.user_new_york, LATE_ON_THE_11TH_UTC)
        self._run_followup(LATE_ON_THE_11TH_UTC)
        self.assertEqual(self._runs().mapped("date"), [self.invoice.followup_last_date])
        self.assertEqual(str(self._runs().date), "2025-01-11")

    def test_invoice_is_stamped_with_the_date_of_its_history(self):
        self._run_followup(BEFORE_MIDNIGHT_UTC)
        history = self._history(self.customer_be)
        self.assertEqual(history.state, "done")
        self.assertEqual(self.invoice.followup_last_date, history.date)
        self.assertEqual(str(history.date), "2025-01-11")

    def test_next_company_day_starts_at_midnight_in_the_company_zone(self):
        self._run_followup(LATE_ON_THE_11TH_UTC)
        self._run_followup(AFTER_MIDNIGHT_BRUSSELS)
        self.assertEqual(
            sorted(str(day) for day in self._runs().mapped("date")),
            ["2025-01-11", "2025-01-12"],
        )

    def test_new_company_takes_the_time_zone_of_its_country(self):
        company = self.env["res.company"].create(
            {"name": "Lisboa Lda", "country_id": self.env.ref("base.pt").id}
        )
        self.assertEqual(company.followup_tz, "Europe/Lisbon")
