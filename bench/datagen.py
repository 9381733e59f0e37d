"""Bulk data for the follow-up benchmark, in SQL.

Creating 100,000 invoices through the ORM takes hours; the seed invoices made by
the worker (one per currency, posted through the ORM) are cloned here with
``INSERT ... SELECT generate_series``. Every column of the seed rows is copied
unless overridden, so the clones stay consistent with whatever other modules
store on ``account_move``/``account_move_line``/``res_partner``.

The clones are open, posted customer invoices, due 1 to 120 days ago over M
customers (one in four French), 20 % in USD. In the ``escalated`` scenario every
invoice already went through the levels before the one it is due for today, so one
run performs every level of the policy; in ``fresh`` no level was performed yet
(the first run after installing the module: everything gets the first reminder).
"""

import json

DUE_SPREAD_DAYS = 120


def table_columns(cr, table):
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = %s
         ORDER BY ordinal_position
        """,
        [table],
    )
    return [row[0] for row in cr.fetchall()]


def clone_statement(cr, table, source_alias, overrides, from_clause):
    """INSERT INTO table SELECT every column from the seed row, some overridden."""
    columns = table_columns(cr, table)
    unknown = set(overrides) - set(columns)
    if unknown:
        raise RuntimeError(f"{table} has no column {sorted(unknown)}")
    exprs = [overrides.get(col, f'{source_alias}."{col}"') for col in columns]
    names = ", ".join(f'"{col}"' for col in columns)
    return f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} {from_clause}"


def read_seed(cr):
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'bench.seed'")
    row = cr.fetchone()
    if not row:
        raise RuntimeError("the bench template has no seed (worker 'seed' mode)")
    return json.loads(row[0])


def create_customers(cr, seed, customers):
    partner_cols = table_columns(cr, "res_partner")
    overrides = {
        "id": "nextval('res_partner_id_seq')",
        "name": "'Bench Customer ' || lpad(g::text, 6, '0')",
        "complete_name": "'Bench Customer ' || lpad(g::text, 6, '0')",
        "email": "'customer' || g || '@bench.example.com'",
        "email_normalized": "'customer' || g || '@bench.example.com'",
        "lang": "CASE WHEN g %% 4 = 0 THEN 'fr_FR' ELSE 'en_US' END",
        "ref": "'BENCH' || g",
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
    }
    overrides = {key: val for key, val in overrides.items() if key in partner_cols}
    cr.execute(
        "CREATE TEMP TABLE bench_customer (idx int PRIMARY KEY, id int) ON COMMIT DROP"
    )
    cr.execute(
        clone_statement(
            cr,
            "res_partner",
            "p",
            overrides,
            "FROM res_partner p, generate_series(1, %s) g WHERE p.id = %s "
            "RETURNING id",
        ),
        [customers, seed["partner_id"]],
    )
    ids = sorted(row[0] for row in cr.fetchall())
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [ids]
    )
    cr.execute(
        "INSERT INTO bench_customer SELECT idx - 1, id FROM unnest(%s::int[]) "
        "WITH ORDINALITY AS t(id, idx)",
        [ids],
    )
    return len(ids)


def plan_invoices(cr, seed, invoices, today):
    """One row per invoice to create: ids, customer, currency seed, due date,
    amount in invoice and company currency."""
    cr.execute(
        """
        CREATE TEMP TABLE bench_inv ON COMMIT DROP AS
        SELECT g AS i,
               nextval('account_move_id_seq')::int AS move_id,
               nextval('account_move_line_id_seq')::int AS product_line_id,
               nextval('account_move_line_id_seq')::int AS term_line_id,
               CASE WHEN g %% 5 = 0 THEN %(usd)s ELSE %(eur)s END AS seed_id,
               c.id AS partner_id,
               p.name AS partner_name,
               -- a multiplicative hash spreads each customer's invoices over every age
               (%(today)s::date
                - (1 + ((g::bigint * 2654435761) %% 4294967296) %% %(spread)s)::int
               )::date AS due,
               round((50 + (g * 7919) %% 4950)::numeric, 2) AS amount
          FROM generate_series(1, %(n)s) g
          JOIN bench_customer c ON c.idx = g %% (SELECT count(*) FROM bench_customer)
          JOIN res_partner p ON p.id = c.id
        """,
        {
            "usd": seed["usd_move_id"],
            "eur": seed["eur_move_id"],
            "today": today,
            "spread": DUE_SPREAD_DAYS,
            "n": invoices,
        },
    )
    cr.execute(
        """
        ALTER TABLE bench_inv ADD COLUMN camount numeric;
        UPDATE bench_inv b
           SET camount = round(b.amount / COALESCE(NULLIF(s.invoice_currency_rate, 0), 1), 2)
          FROM account_move s WHERE s.id = b.seed_id;
        """  # noqa: E501
    )


def create_moves(cr, seed, today):
    name = "'INV/BENCH/' || lpad(b.i::text, 7, '0')"
    overrides = {
        "id": "b.move_id",
        "name": name,
        "sequence_prefix": "'INV/BENCH/'",
        "sequence_number": "b.i",
        "payment_reference": name,
        "ref": "NULL",
        "access_token": "NULL",
        "partner_id": "b.partner_id",
        "commercial_partner_id": "b.partner_id",
        "partner_shipping_id": "b.partner_id",
        "invoice_partner_display_name": "b.partner_name",
        "date": "b.due - 30",
        "invoice_date": "b.due - 30",
        "invoice_date_due": "b.due",
        "amount_untaxed": "b.amount",
        "amount_tax": "0",
        "amount_total": "b.amount",
        "amount_residual": "b.amount",
        "amount_untaxed_signed": "b.camount",
        "amount_untaxed_in_currency_signed": "b.amount",
        "amount_tax_signed": "0",
        "amount_total_signed": "b.camount",
        "amount_total_in_currency_signed": "b.amount",
        "amount_residual_signed": "b.camount",
        "quick_edit_total_amount": "0",
        "state": "'posted'",
        "move_type": "'out_invoice'",
        "payment_state": "'not_paid'",
        "made_sequence_gap": "false",
        "message_main_attachment_id": "NULL",
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
        "followup_status": "CASE WHEN b.due < %(today)s::date "
        "THEN 'in_followup' ELSE 'not_due' END",
        "followup_level_id": "NULL",
        "followup_last_date": "NULL",
        # what the run that moved the invoice to its level left behind
        "followup_next_date": f"b.due + {int(seed['levels'][0][1])}",
    }
    columns = table_columns(cr, "account_move")
    overrides = {
        key: val
        for key, val in overrides.items()
        if key in columns or not key.startswith("followup_")
    }
    cr.execute(
        clone_statement(
            cr,
            "account_move",
            "s",
            overrides,
            "FROM bench_inv b JOIN account_move s ON s.id = b.seed_id",
        ),
        {"today": today},
    )
    return cr.rowcount


def create_lines(cr):
    common = {
        "move_id": "b.move_id",
        "move_name": "'INV/BENCH/' || lpad(b.i::text, 7, '0')",
        "partner_id": "b.partner_id",
        "date": "b.due - 30",
        "invoice_date": "b.due - 30",
        "reconciled": "false",
        "matching_number": "NULL",
        "full_reconcile_id": "NULL",
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
    }
    product = dict(
        common,
        id="b.product_line_id",
        debit="0",
        credit="b.camount",
        balance="-b.camount",
        amount_currency="-b.amount",
        amount_residual="0",
        amount_residual_currency="0",
        price_unit="b.amount",
        price_subtotal="b.amount",
        price_total="b.amount",
    )
    term = dict(
        common,
        id="b.term_line_id",
        name="'INV/BENCH/' || lpad(b.i::text, 7, '0')",
        debit="b.camount",
        credit="0",
        balance="b.camount",
        amount_currency="b.amount",
        amount_residual="b.camount",
        amount_residual_currency="b.amount",
        date_maturity="b.due",
    )
    total = 0
    for display_type, overrides in (("product", product), ("payment_term", term)):
        cr.execute(
            clone_statement(
                cr,
                "account_move_line",
                "s",
                overrides,
                "FROM bench_inv b JOIN account_move_line s "
                "ON s.move_id = b.seed_id AND s.display_type = %s",
            ),
            [display_type],
        )
        total += cr.rowcount
    return total


def escalate(cr, seed, today):
    """Scenario 'escalated': each invoice already had the level before the one due
    today, performed on the day that level fell due."""
    levels = seed["levels"]
    cases_level, cases_date, cases_next = [], [], []
    for index in range(len(levels) - 1, 0, -1):
        _due_id, due_delay = levels[index]
        prev_id, prev_delay = levels[index - 1]
        cond = f"%(today)s::date - b.due >= {int(due_delay)}"
        cases_level.append(f"WHEN {cond} THEN {int(prev_id)}")
        cases_date.append(f"WHEN {cond} THEN b.due + {int(prev_delay)}")
        cases_next.append(f"WHEN {cond} THEN b.due + {int(due_delay)}")
    cr.execute(
        f"""
        UPDATE account_move m
           SET followup_level_id = CASE {" ".join(cases_level)} END,
               followup_last_date = CASE {" ".join(cases_date)} END,
               followup_next_date = CASE {" ".join(cases_next)} END
          FROM bench_inv b
         WHERE m.id = b.move_id
           AND %(today)s::date - b.due >= {int(levels[1][1])}
        """,  # noqa: S608 - integers from the seed
        {"today": today},
    )
    return cr.rowcount


def followup_day(cr, seed):
    """The seed company's follow-up day: today in its follow-up time zone, the
    day its run will be dated, which near midnight is not the server's."""
    if "followup_tz" in table_columns(cr, "res_company"):
        cr.execute(
            "SELECT (now() AT TIME ZONE coalesce(followup_tz, 'UTC'))::date "
            "FROM res_company WHERE id = %s",
            [seed["company_id"]],
        )
    else:
        cr.execute("SELECT (now() AT TIME ZONE 'UTC')::date")
    return cr.fetchone()[0]


def generate(conn, invoices, customers, scenario):
    """Create the customers and invoices in one transaction, dated from the
    company's follow-up day; return counts."""
    with conn.cursor() as cr:
        seed = read_seed(cr)
        today = followup_day(cr, seed)
        made_customers = create_customers(cr, seed, customers)
        plan_invoices(cr, seed, invoices, today)
        moves = create_moves(cr, seed, today)
        lines = create_lines(cr)
        escalated = escalate(cr, seed, today) if scenario == "escalated" else 0
        cr.execute(
            "SELECT count(*) FROM bench_inv WHERE due < %s::date - %s",
            [today, seed["levels"][0][1] - 1],
        )
        due_today = cr.fetchone()[0]
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cr:
        for table in ("res_partner", "account_move", "account_move_line"):
            cr.execute(f"VACUUM ANALYZE {table}")  # noqa: S608 - fixed names
    conn.autocommit = False
    return {
        "customers": made_customers,
        "moves": moves,
        "lines": lines,
        "escalated": escalated,
        "overdue_past_first_level": due_today,
    }
