"""The Odoo side of the Aged Receivables benchmark: one process.

Run by ``bench_aging.py`` with the virtualenv's Python, never imported by Odoo.
As a follow-up user of the company (its record rule applies), each step is
called once to warm the caches, then timed ``--repeat`` times (median):

- ``pivot``: what the pivot view asks when it opens, the grand total and the
  rows by customer, every bucket column summed;
- ``list``: the list grouped by customer, its first page of groups with sums;
- ``report_values``: the PDF's rows, ``_aged_by_customer`` of the company;
- ``report_html``: the PDF's HTML (the QWeb rendering, no wkhtmltopdf).

The plan of the pivot's query is logged (EXPLAIN ANALYZE).
"""

import statistics
import time

from followup_worker import run_in_odoo, worker_parser

MEASURES = [
    "amount_not_due:sum",
    "amount_1_30:sum",
    "amount_31_60:sum",
    "amount_61_90:sum",
    "amount_91_plus:sum",
    "amount_residual:sum",
]


def main():
    parser = worker_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run_in_odoo(args, lambda env, odoo: measure(env, odoo, args.repeat))


def measure(env, odoo, repeat):
    company = env.ref("base.main_company")
    user = env["res.users"].create(
        {
            "name": "Aging bench",
            "login": "aging_bench",
            "company_id": company.id,
            "company_ids": [odoo.Command.set(company.ids)],
            "groups_id": [
                odoo.Command.link(
                    env.ref("receivables_followup.group_followup_user").id
                )
            ],
        }
    )
    env.cr.commit()
    user_env = env(user=user.id, context={"lang": "en_US"})
    Aging = user_env["followup.receivable.aging"]
    report = user_env["ir.actions.report"]
    steps = {
        "pivot": lambda: (
            Aging.read_group([], MEASURES, [], lazy=False),
            Aging.read_group([], MEASURES, ["partner_id"], lazy=False),
        ),
        "list": lambda: Aging.web_read_group(
            [], MEASURES, ["partner_id"], limit=80, lazy=True
        ),
        "report_values": lambda: Aging._aged_by_customer(company),
        "report_html": lambda: report._render_qweb_html(
            "receivables_followup.action_report_followup_receivable_aging",
            company.ids,
        ),
    }
    result = {
        "rows": Aging.search_count([]),
        "customers": len(Aging._aged_by_customer(company)["rows"]),
    }
    for name, step in steps.items():
        step()
        times = []
        for _run in range(repeat):
            user_env.invalidate_all()
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        result[f"{name}_s"] = statistics.median(times)
    result["plan"] = explain(user_env)
    return result


def explain(env):
    """The plan of the rows-by-customer query, as PostgreSQL runs it."""
    env.cr.execute(
        "EXPLAIN (ANALYZE, BUFFERS) SELECT partner_id, SUM(amount_residual), "
        + ", ".join(f"SUM({name.split(':')[0]})" for name in MEASURES[:-1])
        + " FROM followup_receivable_aging WHERE company_id IN %s GROUP BY partner_id",
        [tuple(env.companies.ids)],
    )
    return "\n".join(row[0] for row in env.cr.fetchall())


if __name__ == "__main__":
    main()
