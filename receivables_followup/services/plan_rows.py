"""The rows a slice of a run's plan inserts: its actions and their invoice lines.

A run plans tens of thousands of actions, and the ORM creates them one by one: the
models insert each kind in one statement, ``unnest`` over one array per column.
The statements and the arrays they read are built here from the planner's plain
values (:mod:`.planner`), so that what a row holds can be read apart from the
transaction that writes it. Amounts are rounded by the caller's ``round_amount``
(the company currency's rounding).
"""

#: the late-payment part of an action that is not a formal notice: no regime, no
#: amount per line, nothing in company currency
NO_LEGAL = (None, None, 0.0, 0.0)

INSERT_ACTIONS = """
    INSERT INTO followup_history (
        run_id, company_id, partner_id, recipient_id, level_id, policy_id,
        date, state, origin, amount_claimed, credit_amount, legal_regime,
        interest_amount, indemnity_amount, review_reason,
        create_uid, create_date, write_uid, write_date)
    SELECT %(run)s, %(company)s, v.partner_id, v.recipient_id, v.level_id,
           l.policy_id, %(date)s, v.state, %(origin)s, v.claimed, v.credit,
           v.regime, v.interest, v.indemnity, v.reason,
           %(uid)s, %(now)s, %(uid)s, %(now)s
      FROM unnest(%(partners)s::int[], %(recipients)s::int[],
                  %(levels)s::int[], %(states)s::varchar[],
                  %(claimed)s::numeric[], %(credits)s::numeric[],
                  %(regimes)s::varchar[], %(interests)s::numeric[],
                  %(indemnities)s::numeric[], %(reasons)s::varchar[])
           AS v(partner_id, recipient_id, level_id, state, claimed, credit,
                regime, interest, indemnity, reason)
      JOIN followup_level l ON l.id = v.level_id
    RETURNING id, partner_id
"""

INSERT_LINES = """
    INSERT INTO followup_history_line (
        history_id, company_id, move_id, level_id, date_due, currency_id,
        amount_residual, amount_credit, amount_claimed,
        amount_claimed_company, interest_amount, indemnity_amount)
    SELECT v.history_id, h.company_id, v.move_id, v.level_id,
           v.date_due::date, v.currency_id, v.residual, v.credit, v.claimed,
           v.claimed_company, v.interest, v.indemnity
      FROM unnest(%(history)s::int[], %(move)s::int[], %(level)s::int[],
                  %(due)s::text[], %(currency)s::int[],
                  %(residual)s::numeric[], %(credit)s::numeric[],
                  %(claimed)s::numeric[], %(claimed_company)s::numeric[],
                  %(interest)s::numeric[], %(indemnity)s::numeric[])
           AS v(history_id, move_id, level_id, date_due, currency_id,
                residual, credit, claimed, claimed_company, interest,
                indemnity)
      JOIN followup_history h ON h.id = v.history_id
      -- an action reminds only invoices of its own company
      JOIN account_move m ON m.id = v.move_id AND m.company_id = h.company_id
"""

LINE_COLUMNS = (
    "history",
    "move",
    "level",
    "due",
    "currency",
    "residual",
    "credit",
    "claimed",
    "claimed_company",
    "interest",
    "indemnity",
)


def legal_rows(action_count, legal_by_action):
    """The late-payment part of each planned action, in order: its entry of
    ``legal_by_action`` (``{index: (regime, per line, interest, indemnity)}``),
    :data:`NO_LEGAL` for the actions that are no formal notice."""
    return [legal_by_action.get(index, NO_LEGAL) for index in range(action_count)]


def action_columns(planned, recipients, legal, round_amount):
    """The per-action arrays of :data:`INSERT_ACTIONS`.

    :param planned: the planner's actions
    :param recipients: {customer id: its invoicing contact id}; the customer
        itself receives the reminder when it has none
    :param legal: :func:`legal_rows` of ``planned``
    :param round_amount: rounds a company-currency amount
    """
    return {
        "partners": [action.partner_id for action in planned],
        "recipients": [
            recipients.get(action.partner_id, action.partner_id) for action in planned
        ],
        "levels": [action.level_id for action in planned],
        "states": ["to_review" if action.manual else "pending" for action in planned],
        "claimed": [round_amount(action.claimed) for action in planned],
        "credits": [
            round_amount(max(action.amount - action.claimed, 0.0)) for action in planned
        ],
        "regimes": [row[0] for row in legal],
        "interests": [row[2] for row in legal],
        "indemnities": [row[3] for row in legal],
        "reasons": [action.review_reason or None for action in planned],
    }


def manual_next_dates(plan):
    """{invoice id: its next date in ``plan``} of the actions left to a person."""
    return {
        move_id: plan.next_dates.get(move_id)
        for action in plan.actions
        if action.manual
        for move_id in action.invoice_ids
    }


def line_columns(action_ids, planned, legal_per_action, round_amount):
    """The per-line arrays of :data:`INSERT_LINES`, keyed by :data:`LINE_COLUMNS`.

    :param action_ids: the inserted actions' ids, in the order of ``planned``
    :param planned: the planner's actions (with their lines)
    :param legal_per_action: for each action, None or [(interest, indemnity)]
        per line, in each line's currency
    :param round_amount: rounds a company-currency amount
    """
    columns = {key: [] for key in LINE_COLUMNS}
    for action_id, plan_action, legal_lines in zip(
        action_ids, planned, legal_per_action, strict=True
    ):
        legal_lines = legal_lines or [(0.0, 0.0)] * len(plan_action.lines)
        for line, legal_line in zip(plan_action.lines, legal_lines, strict=True):
            _append_line(columns, action_id, line, legal_line, round_amount)
    return columns


def _append_line(columns, action_id, line, legal_line, round_amount):
    """Append one invoice line of an action to ``columns``.

    :param legal_line: (interest, indemnity) of the line, in its currency
    """
    interest, indemnity = legal_line
    claimed = line.claimed_currency
    rate = line.residual / line.residual_currency if line.residual_currency else 1.0
    columns["history"].append(action_id)
    columns["move"].append(line.invoice_id)
    columns["level"].append(line.level_id)
    columns["due"].append(str(line.due_date) if line.due_date else None)
    columns["currency"].append(line.currency_id)
    columns["residual"].append(line.residual_currency)
    columns["credit"].append(line.credit_currency)
    columns["claimed"].append(claimed)
    columns["claimed_company"].append(round_amount(claimed * rate))
    columns["interest"].append(interest)
    columns["indemnity"].append(indemnity)
