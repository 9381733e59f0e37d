"""The report of the agency callbacks' bench (``bench_webhooks.py``): the
processing's counts checked, and the lines printed at the end of a run.
"""

from benchlib import WORK_DIR

TARGET_RATE = 150.0
TARGET_P99_MS = 300.0


def check_apply(applied, events, payment_ids):
    problems = []
    first, second = applied["first"], applied["second"]
    if first["event_states"] != {"done": events}:
        problems.append(
            f"events after processing: {first['event_states']} (first errors: "
            f"{applied['errors']})"
        )
    if applied["applied"] != events:
        problems.append(f"{applied['applied']} events processed for {events} stored")
    if applied["again_processed"]:
        problems.append(
            f"the scheduled action run again processed {applied['again_processed']}"
        )
    if applied["replayed"] != events:
        problems.append(f"the replay processed {applied['replayed']} of {events}")
    if second["event_states"] != {"done": events}:
        problems.append(f"events after the replay: {second['event_states']}")
    for key in ("account_move", "account_move_line", "partial_reconcile", "payments"):
        if first.get(key) != second.get(key):
            problems.append(
                f"the replay changed {key}: {first.get(key)} -> {second.get(key)}"
            )
    if applied["payment_model"]:
        booked = set(first["booked_ids"])
        if booked != payment_ids or first["payments"] != len(payment_ids):
            problems.append(
                f"{first['payments']} agency payments ({first['payment_states']}, "
                f"{len(booked)} distinct booked; {len(payment_ids - booked)} "
                f"missing, {len(booked - payment_ids)} unknown) for "
                f"{len(payment_ids)} payments in the payment events"
            )
        if set(second["booked_ids"]) != booked:
            problems.append("the replay changed which payments are booked")
    return problems


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def met(flag):
    return "met" if flag else "NOT met"


def print_report(result, notes):
    print()
    for note in notes:
        print(f"# {note}")
    columns = [
        ("pass", 6),
        ("events", 6),
        ("wall s", 6),
        ("events/s", 8),
        ("p50 ms", 6),
        ("p99 ms", 6),
        ("max ms", 6),
        ("errors", 6),
        ("answers", 26),
        ("CPU s odoo/pg/client", 20),
    ]
    print(" ".join(name.rjust(width) for name, width in columns))
    for row in result.get("passes", []):
        errors = {k: v for k, v in row["statuses"].items() if k != "200"}
        answers = ", ".join(f"{k} {v}" for k, v in sorted(row["answers"].items()))
        cpu = (
            f"{row['odoo_cpu_s']:.1f}/{row['postgres_cpu_s']:.1f}/"
            f"{row['client_cpu_s']:.1f}"
        )
        values = [
            row["label"],
            row["sent"],
            f"{row['wall_s']:.1f}",
            f"{row['accepted_per_s']:.1f}",
            f"{row['p50_ms']:.0f}",
            f"{row['p99_ms']:.0f}",
            f"{row['max_ms']:.0f}",
            sum(errors.values()) if errors else 0,
            answers,
            cpu,
        ]
        print(
            " ".join(
                str(v).rjust(w) for v, (_n, w) in zip(values, columns, strict=True)
            )
        )
        if errors:
            print(f"#   errors by status: {errors}; first: {row['errors']}")
    if "events" in result:
        print(
            f"# {result['cases']} cases ({result['debtors']} debtors, "
            f"{result['invoices']} invoices), {result['payments']} payments registered "
            f"at the agency; {result['events']} events: {result['payment_events']} "
            f"payment.created, {result['case_events']} case.updated"
        )
    if "stored_first" in result:
        print(
            f"# events stored: {result['stored_first']} after the first delivery "
            f"(distinct sent: {result['events']}), {result['stored_second']} after "
            f"the second; cron triggers queued: {result['cron_triggers_first']} "
            f"by the first delivery, {result['cron_triggers']} after the second"
        )
    applied = result.get("apply")
    if applied:
        first, second, before = applied["first"], applied["second"], applied["before"]
        rate = applied["applied"] / applied["apply_s"] if applied["apply_s"] else 0
        print(
            f"# applied: {applied['applied']} events in {applied['apply_s']:.1f} s "
            f"({rate:.1f} events/s, {applied['apply_calls']} calls of the scheduled "
            f"action; {applied['apply_http_calls']} reads from the agency, "
            f"{applied['apply_http_s']:.1f} s); states {first['event_states']}; "
            f"cases {before['case_states']} -> {first['case_states']}; entries "
            f"+{first['account_move'] - before['account_move']}, journal items "
            f"+{first['account_move_line'] - before['account_move_line']}, "
            f"reconciliations "
            f"+{first['partial_reconcile'] - before['partial_reconcile']}, "
            f"messages +{first['mail_message'] - before['mail_message']}, "
            f"activities +{first['mail_activity'] - before['mail_activity']}; "
            f"peak RSS {applied['rss_peak_mb']:.0f} MB"
        )
        if applied["payment_model"]:
            print(
                f"# payments booked: {first['payments_booked_distinct']} "
                f"({first['payment_states']}) for {result['payments']} distinct "
                f"payments in the payment events"
            )
        else:
            print(
                "# payments booked: not checked (followup.agency.payment is not in "
                "the addon measured)"
            )
        replay_rate = (
            applied["replayed"] / applied["replay_s"] if applied["replay_s"] else 0
        )
        print(
            f"# second processing: the scheduled action again processed "
            f"{applied['again_processed']}; replay of all {applied['replayed']} "
            f"events in {applied['replay_s']:.1f} s ({replay_rate:.1f} events/s): "
            f"entries {first['account_move']} -> {second['account_move']}, journal "
            f"items {first['account_move_line']} -> {second['account_move_line']}, "
            f"reconciliations {first['partial_reconcile']} -> "
            f"{second['partial_reconcile']}, agency payments "
            f"{first.get('payments', '-')} -> {second.get('payments', '-')}, "
            f"messages {first['mail_message']} -> {second['mail_message']}"
        )
    profile = result.get("profile")
    if profile or (applied and applied.get("profile")):
        print(f"# profile (cProfile, one process; stats in {WORK_DIR}):")
    if profile:
        for label in ("new", "duplicate"):
            part = profile[label]
            print(
                f"#   {profile['events']} {label} deliveries one after the other: "
                f"{part['wall_ms']:.1f} ms wall, {part['cpu_ms']:.1f} ms CPU each "
                f"(answers {part['answers']}); ms per delivery (calls):"
            )
            for spot, ms, calls in part["spots"]:
                print(f"#     {spot:<44} {ms:7.2f} ({calls:g})")
    if applied and applied.get("profile"):
        print("#   processing, ms per event (calls per event, ms per call):")
        for spot, ms, calls in applied["profile"]:
            per_call = f", {ms / calls:.1f}" if calls else ""
            print(f"#     {spot:<44} {ms:7.2f} ({calls:g}{per_call})")
    print(
        "# exact counts: "
        + ("yes" if not result["problems"] else "NO: " + "; ".join(result["problems"]))
    )
    for row in result.get("passes", []):
        ok = row["accepted_per_s"] >= TARGET_RATE and row["p99_ms"] < TARGET_P99_MS
        print(
            f"# target >= {TARGET_RATE:.0f} events/s accepted with p99 < "
            f"{TARGET_P99_MS:.0f} ms ({row['label']} delivery): "
            f"{row['accepted_per_s']:.1f} events/s, p99 {row['p99_ms']:.0f} ms, "
            f"{met(ok)}"
        )
