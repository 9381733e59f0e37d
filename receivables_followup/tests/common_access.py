"""Fixtures of the security tests: every role of the addon, in two companies.

``SecurityCommon`` gives the internal roles of company 1 (from a plain employee
to a follow-up manager) and a manager of company 2; ``AccessMatrixCommon`` adds
the customers' side (a portal user of a company-1 customer, one of a company-2
customer, the public user), a follow-up user of company 2 only, and one record
of every model of the addon in each company, made the way the addon makes them
(the run, the review, a dispute, a promise) or, for the agency's records that
only its API makes, directly.
"""

import base64
import os
import uuid
from datetime import timedelta

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command
from odoo.tests import new_test_user

from .common import FollowupCommon
from .common_agency import AgencySandboxMixin

#: the addon's Python package: what it defines (routes, methods) is a door
ADDON_MODULE = "odoo.addons.receivables_followup"
#: the roles of the access matrix, in the order of its columns
ROLES = (
    "public",
    "portal",
    "portal_b",
    "internal",
    "billing",
    "followup_user",
    "followup_manager",
    "other_company_user",
)
#: roles that sign in to the back-end
INTERNAL_ROLES = ROLES[3:]
#: the company each role works in ("a" = company 1, "b" = company 2)
ROLE_COMPANY = {
    "public": None,
    "portal": "a",
    "portal_b": "b",
    "internal": "a",
    "billing": "a",
    "followup_user": "a",
    "followup_manager": "a",
    "other_company_user": "b",
}


class SecurityCommon(FollowupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company(name="Second Co")["company"]
        cls.company_2.followup_tz = "Europe/Paris"
        cls.policy_2 = cls._create_policy(cls.company_2, "Second Co policy")
        # Contact Creation is what Odoo gives new internal users: every role but
        # the plain employee has it, as in a real database
        base = "base.group_user"
        contacts = f"{base},base.group_partner_manager"
        cls.users = {
            "employee": cls._user("sec_employee", base),
            "contact_creator": cls._user("sec_contacts", contacts),
            "billing": cls._user(
                "sec_billing", f"{contacts},account.group_account_invoice"
            ),
            "followup_user": cls._user(
                "sec_fu_user", f"{contacts},receivables_followup.group_followup_user"
            ),
            "followup_manager": cls._user(
                "sec_fu_manager",
                f"{contacts},receivables_followup.group_followup_manager",
            ),
            "other_company_manager": cls._user(
                "sec_other_manager",
                f"{contacts},receivables_followup.group_followup_manager",
                company=cls.company_2,
            ),
        }
        cls.invoice = cls._create_invoice(cls.customer_be, 1000.0, "2025-01-01")
        cls.invoice_2 = cls._create_invoice(
            cls.customer_be, 700.0, "2025-01-01", company=cls.company_2
        )

    @classmethod
    def _user(cls, login, groups, company=None):
        company = company or cls.company
        return new_test_user(
            cls.env,
            login=login,
            groups=groups,
            company_id=company.id,
            company_ids=[company.id],
            email=f"{login}@company.example",
        )

    def _reason(self):
        return self.env["followup.dispute.reason"].search([], limit=1)


class AccessMatrixCommon(AgencySandboxMixin, SecurityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(user=SUPERUSER_ID, context={})
        cls.customer_b = cls._create_customer(
            "Bergen Fisheries", country="no", company_id=cls.company_2.id
        )
        cls.invoice_b = cls._create_invoice(
            cls.customer_b, 900.0, "2025-01-01", company=cls.company_2
        )
        cls.invoice_b2 = cls._create_invoice(
            cls.customer_b, 300.0, "2025-01-01", company=cls.company_2
        )
        cls.invoice_fr = cls._create_invoice(cls.customer_fr, 400.0, "2025-01-01")
        cls.users["internal"] = cls.users["contact_creator"]
        cls.users["other_company_user"] = cls._user(
            "am_other_user",
            "base.group_user,base.group_partner_manager,"
            "receivables_followup.group_followup_user",
            company=cls.company_2,
        )
        cls.users["portal"] = cls._portal_user("am_portal", cls.customer_be)
        cls.users["portal_b"] = cls._portal_user(
            "am_portal_b", cls.customer_b, company=cls.company_2
        )
        cls.users["public"] = cls.env.ref("base.public_user")
        cls._make_followup_records(env)
        cls._make_agency_records(env)
        cls.review_a = env["followup.history"].search(
            [("company_id", "=", cls.company.id), ("state", "=", "to_review")],
            limit=1,
        )
        cls.statement_line = env["account.bank.statement.line"].create(
            {
                "journal_id": cls.company_data["default_journal_bank"].id,
                "partner_id": cls.customer_be.id,
                "amount": 100.0,
                "payment_ref": "Agency remittance",
                "date": "2025-02-01",
            }
        )
        env.flush_all()

    @classmethod
    def _portal_user(cls, login, customer, company=None):
        company = company or cls.company
        user = new_test_user(
            cls.env,
            login=login,
            groups="base.group_portal",
            company_id=company.id,
            company_ids=[company.id],
            email=f"{login}@customer.example",
        )
        user.partner_id.parent_id = customer
        return user

    @classmethod
    def _make_followup_records(cls, env):
        """Runs, reminders (one to review, one sent), disputes, promises and
        the company-specific configuration, in both companies."""
        cls.level_1.manual_review = True
        cls.level_2_b = cls.policy_2.level_ids.sorted("delay")[:1]
        cls.level_2_b.manual_review = True
        with freeze_time("2025-01-11"):
            for _call in range(20):
                if not env["followup.run"]._cron_run_followup()[1]:
                    break
        History = env["followup.history"]
        for company, sent in ((cls.company, cls.customer_fr), (cls.company_2, None)):
            reminders = History.search([("company_id", "=", company.id)])
            if sent:
                with freeze_time("2025-01-12"):
                    reminders.filtered(lambda h, p=sent: h.partner_id == p)[
                        :1
                    ].action_review_send()
        reason = env["followup.dispute.reason"].search([], limit=1)
        Dispute = env["followup.dispute"]
        # a cancelled dispute per company: the one the model's door is tried
        # on (only a cancelled dispute may be deleted, whoever asks)
        cls.cancelled_disputes = {}
        for key, partner, invoice in (
            ("a", cls.customer_be, cls.invoice),
            ("b", cls.customer_b, cls.invoice_b),
        ):
            cancelled = Dispute.with_company(invoice.company_id)._open_dispute(
                partner, {invoice: 50.0}, reason.code
            )
            cancelled.action_cancel()
            cls.cancelled_disputes[key] = cancelled
        cls.dispute_a = Dispute._open_dispute(
            cls.customer_be, {cls.invoice: 100.0}, reason.code
        )
        cls.dispute_b = Dispute.with_company(cls.company_2)._open_dispute(
            cls.customer_b, {cls.invoice_b: 100.0}, reason.code
        )
        for invoice, partner in (
            (cls.invoice_fr, cls.customer_fr),
            (cls.invoice_b2, cls.customer_b),
        ):
            today = invoice.company_id._followup_today()
            invoice.with_env(env).with_company(
                invoice.company_id
            )._followup_register_promise(today + timedelta(days=5), partner)
        cls.rate_b = env["followup.interest.rate"].create(
            {
                "company_id": cls.company_2.id,
                "date_from": "2025-01-01",
                "reference_rate": 3.0,
            }
        )
        cls.reason_b = env["followup.dispute.reason"].create(
            {"name": "Second Co reason", "company_id": cls.company_2.id}
        )

    @classmethod
    def _make_agency_records(cls, env):
        """An agency per company, with the secrets the tests look for, and a
        case, a request, a callback, a payment and a report import each."""
        cls.secrets = {
            "api_key": cls.sandbox_api_key,
            # Debitura's secrets are base64: random bytes, found nowhere else
            "webhook_secret": base64.b64encode(os.urandom(24)).decode(),
            "webhook_secret_previous": base64.b64encode(os.urandom(24)).decode(),
        }
        cls.agency = env["followup.agency"].create(
            {
                "name": "Debitura Sandbox",
                "code": "debitura",
                "company_id": cls.company.id,
                "base_url": cls.sandbox.base_url,
                "agency_user_email": "accountant@sandbox-creditor.example",
                "request_timeout": 2.0,
                "max_attempts": 1,
                "send_documents": False,
                **cls.secrets,
            }
        )
        cls.agency_b = env["followup.agency"].create(
            {
                "name": "Second Co agency",
                "company_id": cls.company_2.id,
                "api_key": f"rf-key-b-{uuid.uuid4().hex}",
                "webhook_secret": base64.b64encode(os.urandom(24)).decode(),
            }
        )
        cls.agency_records = {}
        for key, agency, invoice in (
            ("a", cls.agency, cls.invoice),
            ("b", cls.agency_b, cls.invoice_b),
        ):
            company = agency.company_id
            case = env["followup.agency.case"].create(
                {
                    "agency_id": agency.id,
                    "company_id": company.id,
                    "partner_id": invoice.commercial_partner_id.id,
                    "currency_id": invoice.currency_id.id,
                    "line_ids": [Command.create({"move_id": invoice.id})],
                }
            )
            request = env["followup.agency.request"].create(
                {
                    "agency_id": agency.id,
                    "case_id": case.id,
                    "kind": "refresh",
                    "idempotency_key": str(uuid.uuid4()),
                }
            )
            event = env["followup.agency.event"].create(
                {
                    "agency_id": agency.id,
                    "company_id": company.id,
                    "event_id": str(uuid.uuid4()),
                    "event_type": "case.updated",
                    "payload": "{}",
                }
            )
            payment = env["followup.agency.payment"].create(
                {
                    "agency_id": agency.id,
                    "case_id": case.id,
                    "company_id": company.id,
                    "agency_payment_id": str(uuid.uuid4()),
                    "currency_id": invoice.currency_id.id,
                    "recipient": "agency",
                }
            )
            report = env["followup.agency.import"].create(
                {
                    "name": f"report-{key}.csv",
                    "agency_id": agency.id,
                    "company_id": company.id,
                }
            )
            line = env["followup.agency.import.line"].create(
                {
                    "import_id": report.id,
                    "agency_id": agency.id,
                    "identity": f"row-{key}",
                    "state": "rejected",
                }
            )
            cls.agency_records[key] = {
                "followup.agency.case": case,
                "followup.agency.case.line": case.line_ids,
                "followup.agency.request": request,
                "followup.agency.event": event,
                "followup.agency.payment": payment,
                "followup.agency.import": report,
                "followup.agency.import.line": line,
            }

    @classmethod
    def _sample(cls, model, company_key):
        """One record of ``model`` in company ``company_key`` ("a" or "b"),
        or an empty recordset when the model keeps none."""
        env = cls.env(user=SUPERUSER_ID, context={})
        company = cls.company if company_key == "a" else cls.company_2
        fixed = {
            "followup.policy": cls.policy if company_key == "a" else cls.policy_2,
            "followup.dispute": cls.cancelled_disputes[company_key],
            "followup.agency": cls.agency if company_key == "a" else cls.agency_b,
            "followup.interest.rate": (
                env["followup.interest.rate"].search(
                    [("company_id", "=", False)], limit=1
                )
                if company_key == "a"
                else cls.rate_b
            ),
            "followup.dispute.reason": (
                env["followup.dispute.reason"].search(
                    [("company_id", "=", False)], limit=1
                )
                if company_key == "a"
                else cls.reason_b
            ),
            **cls.agency_records[company_key],
        }
        if model in fixed:
            return fixed[model].with_env(env)
        Model = env[model]
        if Model._abstract or Model._transient:
            return Model
        domain = [("company_id", "=", company.id)] if "company_id" in Model else []
        return Model.search(domain, limit=1, order="id")


def text_table(title, header, rows):
    """A plain-text table: ``header`` and ``rows`` are lists of strings."""
    widths = [
        max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]

    def line(cells):
        return " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([title, "", line(header), rule, *map(line, rows), ""])
