"""The Odoo side of the report import benchmark: one process.

Run by ``bench_import.py`` with the virtualenv's Python, never imported by Odoo.
It opens a database the driver filled with ``datagen.py``, then:

1. setup, not timed: an agency without an adapter (booking journal, clearing
   and fee accounts, the agency as a contact), and one case per bench customer
   holding its open invoices in the company's currency, created directly with
   sudo (the hand-off wizard and its outbox are ``bench/handoff``'s subject, not
   this one's), active, committed;
2. a CSV report of ``--rows`` rows over those cases, French headers and decimal
   commas: per case in turn status changes and payments (a payment of a small
   share of what the case owes, its commission stated on every other one);
3. the import, timed: ``followup.agency.import._import_report`` then a commit,
   as the wizard does; then the same file again (every row a duplicate);
4. the figures, printed as ``BENCH_RESULT {json}``.
"""

import cProfile
import pstats
import sys
import time

from followup_worker import rss_mb, run_in_odoo, worker_parser

HEADER = "Référence;Type;Date;Montant;Devise;Commission;Statut;ID paiement\n"
STATUSES = ("actif", "en pause", "actif", "informations requises")


def setup(env, cases_wanted):
    company = env.company
    Account = env["account.account"].with_company(company)
    clearing = Account.create(
        {
            "name": "Bench agency clearing",
            "code": "467900",
            "account_type": "asset_current",
            "reconcile": True,
        }
    )
    fee = Account.search(
        [*Account._check_company_domain(company), ("account_type", "=", "expense")],
        limit=1,
    )
    agency = env["followup.agency"].create(
        {
            "name": "Bench report agency",
            "company_id": company.id,
            "is_test": False,
            "default_fee_rate": 15.0,
            "clearing_account_id": clearing.id,
            "fee_account_id": fee.id,
            "agency_partner_id": env["res.partner"].create({"name": "Bench Agency"}).id,
        }
    )
    currency = company.currency_id
    env.cr.execute(
        """SELECT m.partner_id, array_agg(m.id ORDER BY m.invoice_date_due)
             FROM account_move m
             JOIN res_partner p ON p.id = m.partner_id
            WHERE p.ref LIKE 'BENCH%%' AND m.state = 'posted'
              AND m.move_type = 'out_invoice' AND m.currency_id = %s
              AND m.amount_residual > 0
            GROUP BY m.partner_id
            ORDER BY m.partner_id
            LIMIT %s""",
        [currency.id, cases_wanted],
    )
    groups = env.cr.fetchall()
    moves = env["account.move"].browse([i for _p, ids in groups for i in ids])
    residual = {m["id"]: m for m in moves.read(["amount_residual", "invoice_date_due"])}
    Case = env["followup.agency.case"].sudo()
    cases = Case.create(
        [
            {
                "agency_id": agency.id,
                "company_id": company.id,
                "partner_id": partner_id,
                "currency_id": currency.id,
                "state": "active",
                "date_handed": time.strftime("%Y-%m-%d"),
                "amount_handed": sum(residual[i]["amount_residual"] for i in ids),
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "move_id": i,
                            "due_date": residual[i]["invoice_date_due"],
                            "amount_handed": residual[i]["amount_residual"],
                        },
                    )
                    for i in ids
                ],
            }
            for partner_id, ids in groups
        ]
    )
    moves.sudo().write({"followup_at_agency": True})
    return agency, cases


def report(cases, rows, payment_share):
    """The CSV text: rows over the cases in turn; every ``1/payment_share``-th
    row a payment of 1 % of the case's amount (never above what remains)."""
    today = time.strftime("%d/%m/%Y")
    lines = [HEADER]
    every = max(1, round(1 / payment_share)) if payment_share else 0
    counts = {"status": 0, "payment": 0}
    data = [(c.creditor_reference, c.amount_handed) for c in cases]
    for n in range(rows):
        ref, handed = data[n % len(data)]
        if every and n % every == every - 1:
            amount = f"{max(handed * 0.01, 0.01):.2f}".replace(".", ",")
            commission = f"{handed * 0.0015:.2f}".replace(".", ",") if n % 2 else ""
            lines.append(f"{ref};paiement;{today};{amount};EUR;{commission};;P{n}\n")
            counts["payment"] += 1
        else:
            status = STATUSES[(n // len(data)) % len(STATUSES)]
            lines.append(f"{ref};statut;{today};;;;{status};\n")
            counts["status"] += 1
    return "".join(lines).encode(), counts


def main():
    parser = worker_parser(__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--payment-share", type=float, default=0.2)
    parser.add_argument("--profile", help="cProfile stats of the first import here")
    args = parser.parse_args()
    run_in_odoo(args, lambda env, _odoo: measure(env, args))


def measure(env, args):
    result = {"rss_before_mb": rss_mb()}
    start = time.perf_counter()
    agency, cases = setup(env, args.cases)
    env.cr.commit()
    result["setup_s"] = time.perf_counter() - start
    result["cases"] = len(cases)
    data, counts = report(cases, args.rows, args.payment_share)
    result.update(rows=args.rows, bytes=len(data), **counts)
    Import = env["followup.agency.import"]
    for run in ("first", "again"):
        profiler = cProfile.Profile() if args.profile and run == "first" else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        record = Import._import_report(agency, data, "bench.csv")
        env.cr.commit()
        seconds = time.perf_counter() - start
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(
                "cumulative"
            ).print_stats(40)
        result[f"{run}_s"] = seconds
        result[f"{run}_counts"] = {
            "applied": record.count_applied,
            "duplicate": record.count_duplicate,
            "outdated": record.count_outdated,
            "rejected": record.count_rejected,
            "state": record.state,
        }
        env.invalidate_all()
    result["payments_booked"] = env["followup.agency.payment"].search_count(
        [("agency_id", "=", agency.id), ("state", "=", "booked")]
    )
    result["rss_peak_mb"] = rss_mb()
    return result


if __name__ == "__main__":
    sys.exit(main())
