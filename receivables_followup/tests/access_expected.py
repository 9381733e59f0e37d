"""The expected tables of the access matrix (``test_access_matrix.py``).

What each role may do with each model the addon adds (door 1: its access
rights, grouped by what they are for) and the outcome of each public method
the addon defines when each internal role calls it over JSON-RPC (door 2). A
door that opens or closes changes a table of the test against these; a new
model or public method must have its entry here. The doors 3 and 4 keep their
tables with their code (``access_doors_routes.py``, ``access_doors_secrets.py``).
"""

#: role sets of the expected table
U = {"followup_user", "followup_manager", "other_company_user"}
M = {"followup_manager"}
B = U | {"billing"}
INTERNAL = B | {"internal"}
PORTAL = {"portal", "portal_b"}


def acl(read=(), write=(), create=(), unlink=()):
    return {
        "read": set(read),
        "write": set(write),
        "create": set(create),
        "unlink": set(unlink),
    }


#: the access rights each group of models gives, and its models
MODEL_GROUPS = {
    "configuration: read users, write managers": (
        acl(U, M, M, M),
        (
            "followup.policy",
            "followup.level",
            "followup.interest.rate",
            "followup.agency",
        ),
    ),
    "dispute reasons: read by all signed in, write managers": (
        acl(INTERNAL | PORTAL, M, M, M),
        ("followup.dispute.reason",),
    ),
    "engine records: read users, write nobody but sudo": (
        acl(U),
        (
            "followup.run",
            "followup.run.planning",
            "followup.promise",
            "followup.agency.case.line",
            "followup.agency.request",
            "followup.agency.payment",
            "followup.agency.import",
            "followup.agency.import.line",
        ),
    ),
    "reminders sent: read billing, write nobody but sudo": (
        acl(B),
        ("followup.history", "followup.history.line"),
    ),
    "agency callbacks: read managers only": (acl(M), ("followup.agency.event",)),
    "agency case: read users, its user fields written by users": (
        acl(U, U),
        ("followup.agency.case",),
    ),
    "disputes: read billing and their customer, open users, delete managers": (
        acl(B | PORTAL, U, U, M),
        ("followup.dispute",),
    ),
    "disputed invoices: read billing and their customer, edit users": (
        acl(B | PORTAL, U, U, U),
        ("followup.dispute.line",),
    ),
    "reporting views (SQL): read users": (
        acl(U),
        (
            "followup.dispute.aging",
            "followup.receivable.aging",
            "followup.reminder.effect",
            "followup.reminder.effect.level",
            "followup.reminder.effect.month",
        ),
    ),
    "wizards of the users": (
        acl(U, U, U),
        (
            "followup.review.postpone",
            "followup.review.skip",
            "followup.review.stale",
            "followup.review.edit",
            "followup.exclude.wizard",
            "followup.dispute.resolve",
            "followup.partner.settings",
            "followup.partner.assign",
            "followup.statement.send",
            "followup.postpone",
            "followup.handoff.wizard",
        ),
    ),
    "hand-off wizard lines": (
        acl(U, U, U, U),
        ("followup.handoff.wizard.case", "followup.handoff.wizard.refusal"),
    ),
    "wizards of the managers": (acl(M, M, M), ("followup.agency.import.wizard",)),
    "abstract (no records, no rights)": (
        acl(),
        (
            "followup.dispute.workflow",
            "followup.history.address",
            "followup.history.perform",
            "followup.history.refresh",
            "followup.history.render",
            "followup.history.review",
            "followup.move.engine",
            "followup.move.promise",
            "followup.overview",
            "followup.run.planner",
            "followup.shared.config",
            "followup.statement",
            "followup.review.wizard",
            "report.receivables_followup.report_followup_receivable_aging",
        ),
    ),
}
#: models whose portal rule shows a customer its own records only
PORTAL_OWN = {"followup.dispute", "followup.dispute.line"}
#: models without a company field that belong to their parent's company
COMPANY_VIA = {"followup.agency.import.line": "import_id"}

#: the outcome of each public method for each internal role, in the order of
#: INTERNAL_ROLES
EXPECTED_METHODS = {
    "account.bank.statement.line.action_followup_match_agency_remittance": (
        "refused",
        "refused",
        "refused",
        "refused",
        "refused",
    ),
    "account.move.action_open_agency_cases": ("denied", "denied", "ok", "ok", "ok"),
    "account.move.action_open_dispute": ("denied", "ok", "ok", "ok", "denied"),
    "account.move.action_open_followup_disputes": (
        "denied",
        "ok",
        "ok",
        "ok",
        "denied",
    ),
    "account.move.action_open_handoff_wizard": (
        "denied",
        "denied",
        "ok",
        "ok",
        "denied",
    ),
    "followup.agency.action_import_report": ("ok", "ok", "ok", "ok", "ok"),
    "followup.agency.action_open_cases": ("ok", "ok", "ok", "ok", "ok"),
    "followup.agency.action_open_failed_requests": ("ok", "ok", "ok", "ok", "ok"),
    "followup.agency.action_open_imports": ("ok", "ok", "ok", "ok", "ok"),
    "followup.agency.action_resume": (
        "refused",
        "refused",
        "refused",
        "changed",
        "refused",
    ),
    "followup.agency.action_test_connection": (
        "refused",
        "refused",
        "refused",
        "changed",
        "refused",
    ),
    "followup.agency.case.action_download_case_file": (
        "denied",
        "denied",
        "refused",
        "refused",
        "denied",
    ),
    "followup.agency.case.action_open_invoices": (
        "denied",
        "denied",
        "ok",
        "ok",
        "denied",
    ),
    "followup.agency.case.action_open_requests": ("ok", "ok", "ok", "ok", "ok"),
    "followup.agency.case.action_refresh": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.agency.case.action_request_withdrawal": (
        "denied",
        "denied",
        "refused",
        "refused",
        "denied",
    ),
    "followup.agency.case.action_send_now": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.agency.event.action_retry": (
        "denied",
        "denied",
        "denied",
        "ok",
        "denied",
    ),
    "followup.agency.import.action_download": (
        "denied",
        "denied",
        "ok",
        "ok",
        "denied",
    ),
    "followup.agency.import.action_open_rejected": ("ok", "ok", "ok", "ok", "ok"),
    "followup.agency.import.wizard.action_import": (
        "denied",
        "denied",
        "denied",
        "refused",
        "denied",
    ),
    "followup.agency.request.action_cancel": (
        "denied",
        "denied",
        "refused",
        "changed",
        "denied",
    ),
    "followup.agency.request.action_retry": (
        "denied",
        "denied",
        "refused",
        "ok",
        "denied",
    ),
    "followup.dispute.action_cancel": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.dispute.action_open_resolve_wizard": (
        "denied",
        "ok",
        "ok",
        "ok",
        "denied",
    ),
    "followup.dispute.action_reject": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.dispute.action_resolve_correction": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.dispute.action_resolve_credit_note": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.dispute.action_review": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.dispute.action_view_credit_notes": ("denied", "ok", "ok", "ok", "denied"),
    "followup.dispute.action_view_invoices": ("denied", "ok", "ok", "ok", "denied"),
    "followup.dispute.resolve.action_confirm": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.exclude.wizard.action_confirm": (
        "denied",
        "denied",
        "changed",
        "changed",
        "refused",
    ),
    "followup.handoff.wizard.action_check_agency": (
        "denied",
        "denied",
        "ok",
        "ok",
        "denied",
    ),
    "followup.handoff.wizard.action_confirm": (
        "denied",
        "denied",
        "refused",
        "refused",
        "refused",
    ),
    "followup.history.action_open_handoff_wizard": (
        "denied",
        "denied",
        "ok",
        "ok",
        "denied",
    ),
    "followup.history.action_review_edit": (
        "denied",
        "denied",
        "refused",
        "refused",
        "denied",
    ),
    "followup.history.action_review_postpone": (
        "denied",
        "denied",
        "ok",
        "ok",
        "denied",
    ),
    "followup.history.action_review_send": ("denied", "denied", "ok", "ok", "denied"),
    "followup.history.action_review_skip": ("denied", "denied", "ok", "ok", "denied"),
    "followup.overview.get_overview": ("denied", "denied", "ok", "ok", "ok"),
    "followup.partner.assign.action_confirm": (
        "denied",
        "denied",
        "changed",
        "changed",
        "refused",
    ),
    "followup.partner.settings.action_confirm": (
        "denied",
        "denied",
        "changed",
        "changed",
        "changed",
    ),
    "followup.policy.action_open_customers": ("denied", "denied", "ok", "ok", "denied"),
    "followup.postpone.action_confirm": (
        "denied",
        "denied",
        "changed",
        "changed",
        "refused",
    ),
    "followup.reminder.effect.level.action_open_reminders": (
        "denied",
        "denied",
        "ok",
        "ok",
        "denied",
    ),
    "followup.review.edit.action_send": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.review.postpone.action_confirm": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.review.skip.action_confirm": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.review.stale.action_drop": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.review.stale.action_send": (
        "denied",
        "denied",
        "changed",
        "changed",
        "denied",
    ),
    "followup.run.action_print_letters": (
        "denied",
        "denied",
        "refused",
        "refused",
        "denied",
    ),
    "followup.run.action_run_followup": (
        "denied",
        "denied",
        "changed",
        "changed",
        "changed",
    ),
    "followup.statement.send.action_send": (
        "denied",
        "denied",
        "changed",
        "changed",
        "refused",
    ),
    "res.partner.action_followup_lift_hold": ("denied", "denied", "ok", "ok", "ok"),
    "res.partner.action_followup_send_now": (
        "denied",
        "denied",
        "refused",
        "refused",
        "refused",
    ),
    "res.partner.action_open_agency_cases": ("ok", "ok", "ok", "ok", "ok"),
    "res.partner.action_open_dispute": ("ok", "ok", "ok", "ok", "ok"),
    "res.partner.action_open_followup_disputes": ("ok", "ok", "ok", "ok", "ok"),
    "res.partner.action_open_followup_report": ("ok", "ok", "ok", "ok", "ok"),
    "res.partner.action_open_followup_settings": ("ok", "ok", "ok", "ok", "ok"),
    "res.partner.action_open_handoff_wizard": ("denied", "denied", "ok", "ok", "ok"),
}
