"""The Odoo side of the soak with faults: one mode per process.

Run by ``bench_soak.py`` with the virtualenv's Python, never imported by Odoo.
Each mode opens the registry of the soak database and prints one line
``BENCH_RESULT {json}`` for the driver. The Odoo server (``odoo-bin --workers
--max-cron-threads``) runs beside it: this process only does what a person does.

Modes:
  prepare  what an administrator does once: (``--seed N``: N customers with one
           open invoice each, made through the ORM, for a database without the
           bench generator's data) a routable address for every bench customer,
           a Debitura agency in test mode pointing at the sandbox without
           documents, its clearing and fee accounts, its time-out, the retry
           delay of its requests, and the agency's scheduled actions every
           minute; prints the agency's id
  handoff  what a follow-up manager does: the bench customers' invoices handed
           over through the wizard, ``--chunk`` debtors per wizard (with the
           agency's preview), committed after each; the server's outbox sends
           them while the next wizards are filled
"""

import time
from datetime import timedelta
from types import SimpleNamespace

from followup_worker import run_in_odoo, worker_parser
from handoff_worker import give_addresses, hand_off, spread_tied_due_dates
from webhook_worker import booking_setup, create_agency

#: the agency's scheduled actions run every minute during the soak (hourly and
#: every 5 or 15 minutes by default): the poll that recovers dropped callbacks
#: and the retries must happen within the run
CRONS = ("ir_cron_agency_outbox", "ir_cron_agency_poll", "ir_cron_agency_events")
MODULE = "receivables_followup"


def seed(env, count):
    """``count`` customers ``BENCH<n>`` with one open posted invoice each, due
    10 to 99 days ago, in the company's currency."""
    from odoo import Command

    company = env.ref("base.main_company")
    today = company._followup_today()
    partners = env["res.partner"].create(
        [
            {
                "name": f"Soak debtor {index}",
                "ref": f"BENCH{index}",
                "is_company": True,
                "email": f"debtor{index}@soak.example",
            }
            for index in range(count)
        ]
    )
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": today - timedelta(days=40 + index % 90),
                "invoice_date_due": today - timedelta(days=10 + index % 90),
                "invoice_payment_term_id": False,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Services",
                            "quantity": 1,
                            "price_unit": 100.0 + 7 * index,
                            "tax_ids": [],
                        }
                    )
                ],
            }
            for index, partner in enumerate(partners)
        ]
    )
    moves.action_post()
    return len(moves)


def mode_prepare(env, args, _odoo):
    seeded = seed(env, args.seed) if args.seed else 0
    countries = give_addresses(env)
    spread_tied_due_dates(env)
    agency = create_agency(env, args).sudo()
    agency.write(
        {
            "webhook_secret": args.secret,
            "request_timeout": args.request_timeout,
        }
    )
    booking = booking_setup(env, agency)
    env["ir.config_parameter"].set_param(
        f"{MODULE}.agency_retry_base", str(args.retry_base)
    )
    for xmlid in CRONS:
        cron = env.ref(f"{MODULE}.{xmlid}")
        cron.write({"interval_number": 1, "interval_type": "minutes", "active": True})
    env.cr.commit()
    return {
        "agency_id": agency.id,
        "seeded": seeded,
        "countries": countries,
        "booking": booking,
    }


def mode_handoff(env, args, _odoo):
    start = time.perf_counter()
    handed = hand_off(
        env, SimpleNamespace(chunk=args.chunk), SimpleNamespace(seconds=0.0, calls=0)
    )
    handed["handoff_s"] = time.perf_counter() - start
    env.cr.execute("SELECT count(*) FROM followup_agency_case")
    handed["cases"] = env.cr.fetchone()[0]
    return handed


MODES = {"prepare": mode_prepare, "handoff": mode_handoff}


def main():
    parser = worker_parser(__doc__, MODES)
    parser.add_argument("--base-url", help="the agency sandbox (prepare)")
    parser.add_argument("--api-key", help="(prepare)")
    parser.add_argument("--secret", help="webhook secret, base64 (prepare)")
    parser.add_argument("--seed", type=int, default=0, help="customers to make")
    parser.add_argument("--request-timeout", type=float, default=2.0)
    parser.add_argument("--retry-base", type=float, default=2.0)
    parser.add_argument("--chunk", type=int, default=100, help="debtors per wizard")
    args = parser.parse_args()
    run_in_odoo(args, lambda env, odoo: MODES[args.mode](env, args, odoo))


if __name__ == "__main__":
    main()
