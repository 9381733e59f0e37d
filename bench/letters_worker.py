"""The Odoo side of the letters benchmark: one process.

Run by ``bench_letters.py`` with the virtualenv's Python, never imported by Odoo.

1. *setup, not timed*: a postal address for every customer (a letter waits for a
   person without one), an IBAN for the company (euro letters carry a payment
   QR code), every level of the default policy prints a letter
   without review, Odoo's HTTP served from a thread of this process on a free
   loopback port (``report.url``), one invoice rendered to build the reports'
   asset bundle;
2. *timed*: ``followup.run._cron_run_followup()`` and a commit until nothing
   remains, as Odoo's cron runner does, the calls to
   ``_render_followup_documents`` timed apart;
3. the letters counted: actions with ``sent_letter``, their attachments PDFs of
   their customer.
"""

import json
import sys
import time

from followup_worker import rss_mb, run_in_odoo, worker_parser
from handoff_worker import Timer, children_rss_mb, give_addresses, serve_http


def main():
    args = worker_parser(__doc__).parse_args()
    run_in_odoo(args, measure)


def measure(env, odoo):
    result = {"rss_before_mb": rss_mb()}
    result.update(run(env, odoo))
    result["rss_peak_mb"] = rss_mb()
    return result


def run(env, odoo):
    company = env.ref("base.main_company")
    give_addresses(env)
    # an IBAN: every euro letter carries its SEPA payment QR code, an image the
    # PDF engine fetches from Odoo's /report/barcode
    env["res.partner.bank"].create(
        {
            "acc_number": "FR76 3000 6000 0112 3456 7890 189",
            "partner_id": company.partner_id.id,
            "company_id": company.id,
        }
    )
    levels = env["followup.policy"]._default_for_company(company).level_ids
    levels.write({"manual_review": False, "print_letter": True})
    server = serve_http(odoo)
    env["ir.config_parameter"].set_param(
        "report.url", f"http://127.0.0.1:{server.server_port}"
    )
    env.cr.commit()
    Report = type(env["ir.actions.report"])
    render = Report._render_followup_documents
    timer = Timer()
    # the first rendering builds the reports' asset bundle (once per database in
    # production, shared by invoices and letters): not part of the run
    seed = json.loads(env["ir.config_parameter"].get_param("bench.seed"))
    start = time.perf_counter()
    render(env["ir.actions.report"], "account.account_invoices", [seed["eur_move_id"]])
    warm_up_s = time.perf_counter() - start
    env.cr.commit()
    Report._render_followup_documents = timer.wrap(render)
    Run = env["followup.run"]
    start = time.perf_counter()
    try:
        while True:
            _done, remaining = Run._cron_run_followup()
            env.cr.commit()
            if not remaining:
                break
    finally:
        Report._render_followup_documents = render
        server.shutdown()
    run_s = time.perf_counter() - start
    letters = env["followup.history"].search([("sent_letter", "=", True)])
    pdfs = letters.filtered(
        lambda action: action.attachment_id.mimetype == "application/pdf"
        and action.attachment_id.res_id == action.partner_id.id
    )
    return {
        "letters": len(letters),
        "pdf_letters": len(pdfs),
        "render_s": timer.seconds,
        "render_calls": timer.calls,
        "wk_rss_mb": children_rss_mb(),
        "run_s": run_s,
        "warm_up_s": warm_up_s,
    }


if __name__ == "__main__":
    sys.exit(main())
