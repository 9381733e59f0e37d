"""Door 3 of the access matrix: every route of the addon's controllers and
the URLs of its reports, requested over HTTP by every role.

The routes are read from Odoo's routing map (those whose endpoint the addon
defines) and the reports from the ``ir.actions.report`` records the addon
defines: a new route or report without its expected rows fails the test. Each
request targets company-1 records of the customer of ``portal`` (Brussels
Trading), signed in as the role (public: no session). A page that answers 200
must not show another customer's or company's name or invoice numbers.
"""

import json
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

from odoo import http
from odoo.tools import mute_logger

from .common_access import ADDON_MODULE, ROLES, text_table

ADDON = "receivables_followup"


#: the invoices (by customer and company) each role may see: "be" is the
#: customer of ``portal`` (invoices in both companies), "b" the customer of
#: ``portal_b`` (company 2); company "1" or "2"
def _visible(role, customer, company):
    return {
        "portal": customer == "be",
        "portal_b": customer == "b",
        "billing": company == "1",
        "followup_user": company == "1",
        "followup_manager": company == "1",
        "other_company_user": company == "2",
    }.get(role, False)


#: outcome of each request for each role, in the order of ROLES. "303 login":
#: sent to sign in; "303 <path>": sent elsewhere (ids as N); "refused" (a JSON
#: route): a ValidationError past the access check; "denied": the access
#: check's refusal. In tests Odoo renders a PDF report as its HTML, which lets
#: the body be searched.
LOGIN = "303 login"
REFUSALS = {LOGIN, "303 /my", "401", "403", "404", "denied"}
EXPECTED_ROUTES = {
    # the statement: its customer's own users, or the signed link of a reminder
    "GET /my/followup": (LOGIN, *["200"] * 7),
    "GET /my/followup?partner=be&company=1": (
        LOGIN,
        "200",
        *["404"] * 6,
    ),
    "GET /my/followup?partner=be&company=1&token (reminder link)": ("200",) * 8,
    # a token opens one customer's statement in one company; the customer's
    # own users need none, in any company
    "GET /my/followup?partner=be&company=1&token of fr": (
        "404",
        "200",
        *["404"] * 6,
    ),
    "GET /my/followup?partner=be&company=2&token of company 1": (
        "404",
        "200",
        *["404"] * 6,
    ),
    "GET /my/followup/pdf?partner=be&company=1": (LOGIN, "200", *["404"] * 6),
    "GET /my/followup/pay?partner=be&company=1&currency": (
        LOGIN,
        "200",
        *["404"] * 6,
    ),
    "JSON /my/followup/transaction/be/1/currency": (
        "denied",
        "refused",
        *["denied"] * 6,
    ),
    "JSON /my/followup/transaction/be/1/currency?token (reminder link)": ("refused",)
    * 8,
    # disputes: the customer's own, or those the user may read
    "GET /my/disputes": (
        LOGIN,
        "200",
        "200",
        "303 /my",
        "200",
        "200",
        "200",
        "200",
    ),
    "GET /my/disputes/page/1": (
        LOGIN,
        "200",
        "200",
        "303 /my",
        "200",
        "200",
        "200",
        "200",
    ),
    "GET /my/disputes/<dispute of be>": (
        "303 /my",
        "200",
        "303 /my",
        "303 /my",
        "200",
        "200",
        "200",
        "303 /my",
    ),
    # the forms of the invoice page: its customer's signed-in users only
    "POST /my/invoices/<invoice of be>/dispute": (
        LOGIN,
        "303 /my/disputes/N",
        *["404"] * 6,
    ),
    "POST /my/invoices/<invoice of be>/promise": (
        LOGIN,
        "303 /my/invoices/N",
        *["404"] * 6,
    ),
    # the agency's callbacks: a signature, whoever is signed in
    "POST /receivables_followup/agency/<agency 1>/webhook (unsigned)": ("401",) * 8,
    # the reports, printed through Odoo's report URLs (the letter reads the
    # levels, which billing users may not read)
    "/report/html/receivables_followup.report_followup_letter/<reminder of 1>": (
        LOGIN,
        "403",
        "403",
        "403",
        "403",
        "200",
        "200",
        "403",
    ),
    "/report/pdf/receivables_followup.report_followup_letter/<reminder of 1>": (
        LOGIN,
        "403",
        "403",
        "403",
        "403",
        "200",
        "200",
        "403",
    ),
    "/report/html/receivables_followup.report_followup_partner/<be>": (
        LOGIN,
        "200",
        "403",
        "403",
        "200",
        "200",
        "200",
        "200",
    ),
    "/report/pdf/receivables_followup.report_followup_partner/<be>": (
        LOGIN,
        "200",
        "403",
        "403",
        "200",
        "200",
        "200",
        "200",
    ),
    "/report/html/receivables_followup.report_followup_receivable_aging/<company 1>": (
        LOGIN,
        "403",
        "403",
        "403",
        "403",
        "200",
        "200",
        "403",
    ),
    "/report/pdf/receivables_followup.report_followup_receivable_aging/<company 1>": (
        LOGIN,
        "403",
        "403",
        "403",
        "403",
        "200",
        "200",
        "403",
    ),
}


class RouteDoors:
    """``test_3_routes``, for the access matrix's test class."""

    # ------------------------------------------------------------------
    # what is requested
    # ------------------------------------------------------------------
    def _addon_routes(self):
        """The URL patterns of the routes whose endpoint the addon defines."""
        routing_map = self.env["ir.http"].routing_map()
        return sorted(
            {
                rule.rule
                for rule in routing_map.iter_rules()
                if rule.endpoint.__module__.startswith(ADDON_MODULE)
            }
        )

    def _addon_reports(self):
        """The ``report_name`` of each report action the addon defines."""
        data = self.env["ir.model.data"].search(
            [("module", "=", ADDON), ("model", "=", "ir.actions.report")]
        )
        reports = self.env["ir.actions.report"].browse(data.mapped("res_id"))
        return sorted(set(reports.mapped("report_name")))

    def _route_requests(self):
        """``{row: request}``: each request a dict of ``route`` (the pattern
        it tries), ``method`` (GET, POST or JSON), ``url``, ``data`` and
        ``visible`` (the ``(customer, company)`` its link shows to anyone)."""
        Statement = self.env["followup.statement"]
        be, fr, company, company_2 = (
            self.customer_be,
            self.customer_fr,
            self.company,
            self.company_2,
        )
        currency = self.invoice.currency_id
        token = Statement._token(be, company)

        def query(partner=be, company=company, **extra):
            return urlencode(
                {"partner_id": partner.id, "company_id": company.id, **extra}
            )

        transaction = f"/my/followup/transaction/{be.id}/{company.id}/{currency.id}"
        today = company._followup_today()
        reason = self.env["followup.dispute.reason"].search(
            [("portal_visible", "=", True)], limit=1
        )
        reminder = self.review_a
        requests = {
            "GET /my/followup": ("/my/followup", "GET", "/my/followup"),
            "GET /my/followup?partner=be&company=1": (
                "/my/followup",
                "GET",
                f"/my/followup?{query()}",
            ),
            "GET /my/followup?partner=be&company=1&token (reminder link)": (
                "/my/followup",
                "GET",
                f"/my/followup?{query(access_token=token)}",
                None,
                {("be", "1")},
            ),
            "GET /my/followup?partner=be&company=1&token of fr": (
                "/my/followup",
                "GET",
                f"/my/followup?{query(access_token=Statement._token(fr, company))}",
            ),
            "GET /my/followup?partner=be&company=2&token of company 1": (
                "/my/followup",
                "GET",
                f"/my/followup?{query(company=company_2, access_token=token)}",
            ),
            "GET /my/followup/pdf?partner=be&company=1": (
                "/my/followup/pdf",
                "GET",
                f"/my/followup/pdf?{query()}",
            ),
            "GET /my/followup/pay?partner=be&company=1&currency": (
                "/my/followup/pay",
                "GET",
                f"/my/followup/pay?{query(currency_id=currency.id)}",
            ),
            # a wrong amount: the owner gets past the door to the amount check
            "JSON /my/followup/transaction/be/1/currency": (
                "/my/followup/transaction/<int:partner_id>/<int:company_id>"
                "/<int:currency_id>",
                "JSON",
                transaction,
                {"amount": 1.0},
            ),
            "JSON /my/followup/transaction/be/1/currency?token (reminder link)": (
                "/my/followup/transaction/<int:partner_id>/<int:company_id>"
                "/<int:currency_id>",
                "JSON",
                transaction,
                {"amount": 1.0, "access_token": token},
            ),
            "GET /my/disputes": ("/my/disputes", "GET", "/my/disputes"),
            "GET /my/disputes/page/1": (
                "/my/disputes/page/<int:page>",
                "GET",
                "/my/disputes/page/1",
            ),
            "GET /my/disputes/<dispute of be>": (
                "/my/disputes/<int:dispute_id>",
                "GET",
                f"/my/disputes/{self.dispute_a.id}",
            ),
            "POST /my/invoices/<invoice of be>/dispute": (
                "/my/invoices/<int:invoice_id>/dispute",
                "POST",
                f"/my/invoices/{self.invoice.id}/dispute",
                {
                    "reason_id": reason.id,
                    "amount": "10",
                    "message": "Matrix: one line was not delivered.",
                },
            ),
            "POST /my/invoices/<invoice of be>/promise": (
                "/my/invoices/<int:invoice_id>/promise",
                "POST",
                f"/my/invoices/{self.invoice_be_open.id}/promise",
                {"promise_date": str(today + timedelta(days=5))},
            ),
            "POST /receivables_followup/agency/<agency 1>/webhook (unsigned)": (
                "/receivables_followup/agency/<int:agency_id>/webhook",
                "POST",
                f"/receivables_followup/agency/{self.agency.id}/webhook",
                b'{"id": "matrix", "event": "case.updated", "data": {}}',
            ),
        }
        targets = {
            "report_followup_letter": (reminder.ids, "<reminder of 1>"),
            "report_followup_partner": (be.ids, "<be>"),
            "report_followup_receivable_aging": (company.ids, "<company 1>"),
        }
        for report_name in self._addon_reports():
            ids, label = targets.get(report_name.split(".")[-1], ([], "<?>"))
            for converter in ("html", "pdf"):
                url = f"/report/{converter}/{report_name}/{','.join(map(str, ids))}"
                requests[f"/report/{converter}/{report_name}/{label}"] = (
                    "/report/<converter>/<reportname>/<docids>",
                    "GET",
                    url,
                )
        keys = ("route", "method", "url", "data", "visible")
        return {
            row: {"data": None, "visible": set(), **dict(zip(keys, spec, strict=False))}
            for row, spec in requests.items()
        }

    # ------------------------------------------------------------------
    # one request
    # ------------------------------------------------------------------
    def _csrf_token(self):
        """The form token of the current session, made as Odoo makes it."""
        fake_request = SimpleNamespace(env=self.env, session=self.session)
        return http.Request.csrf_token(fake_request)

    def _request(self, spec):
        """``(outcome, body)`` of one request of the current session."""
        url, data = spec["url"], spec["data"]
        if spec["method"] == "JSON":
            payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": data}
            response = self.url_open(
                url,
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
            body = response.json()
            if "error" not in body:
                return "ok", response.text
            message = body["error"]["data"]["message"]
            denied = message == "This link to a statement is not valid."
            return ("denied" if denied else "refused"), response.text
        if spec["method"] == "POST" and isinstance(data, bytes):
            response = self.url_open(
                url, data=data, headers={"Content-Type": "application/json"}
            )
        elif spec["method"] == "POST":
            response = self.url_open(
                url,
                data={**data, "csrf_token": self._csrf_token()},
                allow_redirects=False,
            )
        else:
            response = self.opener.get(
                self.base_url() + url, timeout=30, allow_redirects=False
            )
        status = response.status_code
        if status in (301, 302, 303):
            path = urlsplit(response.headers["Location"]).path
            if path == "/web/login":
                return LOGIN, ""
            return f"{status} {re.sub(r'[0-9]+', 'N', path)}", ""
        return str(status), response.text

    def _markers(self):
        """``{string: {(customer, company)}}``: each customer invoice's number
        and each customer's name, with the customers and companies whose data
        they are ("be", "b", or "other" for any other customer). A number that
        two companies share belongs to both."""
        keys = {self.customer_be: "be", self.customer_b: "b"}
        companies = {self.company: "1", self.company_2: "2"}
        invoices = (
            self.env["account.move"]
            .sudo()
            .search([("move_type", "in", ("out_invoice", "out_receipt"))])
        )
        markers = {}
        for invoice in invoices:
            owner = (
                keys.get(invoice.commercial_partner_id, "other"),
                companies[invoice.company_id],
            )
            for string in (invoice.name, invoice.commercial_partner_id.name):
                markers.setdefault(string, set()).add(owner)
        markers.setdefault(self.company_2.name, set()).update(
            (customer, "2") for customer in ("be", "b", "other")
        )
        return markers

    def _leaks(self, body, role, extra):
        """The strings of data ``role`` may not see (but for ``extra``, the
        owners a link shows to anyone) found in ``body``."""
        return sorted(
            string
            for string, owners in self._markers().items()
            if string in body
            and not any(_visible(role, *owner) or owner in extra for owner in owners)
        )

    # ------------------------------------------------------------------
    # the door
    # ------------------------------------------------------------------
    def test_3_routes(self):
        # an invoice of the customer's that nothing disputes, to promise on
        self.invoice_be_open = self._create_invoice(
            self.customer_be, 250.0, "2025-01-01"
        )
        requests = self._route_requests()
        routes = self._addon_routes()
        tried = {spec["route"] for spec in requests.values()}
        self.assertEqual(
            set(routes) | {"/report/<converter>/<reportname>/<docids>"},
            tried,
            "every route of the addon has its requests written here",
        )
        self.assertEqual(
            set(requests),
            set(EXPECTED_ROUTES),
            "every request (each report's URLs too) has its expected outcomes here",
        )
        got = {row: {} for row in requests}
        failures = []
        for role in ROLES:
            self._login(role)
            for row, spec in requests.items():
                # a report refused inside its template is logged as an error
                # with its traceback: its status is what the table checks
                with mute_logger("odoo.http"):
                    (outcome, body), unchanged = self._rolled_back(
                        lambda _prepared, spec=spec: self._request(spec)
                    )
                leaks = self._leaks(body, role, spec["visible"])
                if leaks:
                    failures.append(f"{row} {role}: shows {', '.join(leaks)}")
                    outcome += " LEAK"
                # a page may give its invoices their portal tokens; a refusal
                # changes nothing
                if not unchanged and outcome in REFUSALS:
                    failures.append(f"{row} {role}: {outcome} but data changed")
                got[row][role] = outcome
        rows = []
        for row in requests:
            cells = [got[row][role] for role in ROLES]
            rows.append([row, *cells])
            if tuple(cells) != EXPECTED_ROUTES.get(row):
                failures.append(f"{row}: {' | '.join(cells)}")
        self.tables["3"] = text_table(
            "3. Routes and report URLs, on company-1 records of the customer "
            "of `portal` (be); public: no session. 303 login: sent to sign in; "
            "303 /my: sent to the portal's home; "
            "JSON routes: ok, denied (the link check) or refused (past it, "
            "a wrong amount); LEAK: a 200 showing another customer's or "
            "company's name or invoice number",
            ["request", *ROLES],
            rows,
        )
        self.assertFalse(failures, "\n".join(failures))

    def test_3_letter_url_writes_tokens_without_an_error(self):
        """The letter's URL is served on a read-only cursor; the payment
        links' tokens it needs make Odoo serve it again read/write, without
        the failed UPDATE's error in the log."""
        moves = self.review_a.line_ids.move_id
        self.env.cr.execute(
            "UPDATE account_move SET access_token = NULL WHERE id = ANY(%s)",
            [moves.ids],
        )
        moves.invalidate_recordset(["access_token"])
        self._login("followup_user")
        url = (
            "/report/pdf/receivables_followup.report_followup_letter/"
            f"{self.review_a.id}"
        )
        with (
            self.assertNoLogs("odoo.sql_db", "ERROR"),
            self.assertLogs("odoo.http", "WARNING") as logs,
        ):
            response = self.url_open(url, timeout=30)
        self.assertEqual(response.status_code, 200)
        self.assertIn("retrying with a read/write cursor", logs.output[0])
        moves.invalidate_recordset(["access_token"])
        self.assertTrue(all(moves.mapped("access_token")))
