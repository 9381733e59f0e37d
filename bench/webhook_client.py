"""The agency's side of the callback benchmark: concurrent signed deliveries.

Run by ``bench_webhooks.py`` as a separate process (loopback only), never
imported by Odoo. It reads the events to deliver (JSON lines ``{"id", "type",
"body"}``, the body being the exact text to send), then ``--clients`` threads,
each with its own ``requests`` session, take the next event, sign it as Debitura
does at the moment of sending (``agency_sandbox.signatures.signature_header``:
``X-Debitura-Signature: t=<now>,v1=<HMAC-SHA256 of "{t}.{body}">``, with
``X-Debitura-Event``) and POST it, timing each request from before the signature
to the end of the answer. Prints one line ``BENCH_RESULT {json}``: wall time,
events per second, latency percentiles, answers by HTTP status and by the
answer's ``status`` (accepted / duplicate), the first errors, and this
process's CPU time.
"""

import argparse
import json
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from followup_worker import RESULT_PREFIX


def percentile(values, fraction):
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    rank = max(1, int(round(fraction * len(values) + 0.5)))
    return values[min(rank, len(values)) - 1]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def deliver(url, secret, events, clients, timeout, signature_header):
    import requests

    lock = threading.Lock()
    position = iter(range(len(events)))
    latencies = [None] * len(events)
    statuses = Counter()
    answers = Counter()
    errors = []

    def client():
        session = requests.Session()
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            event = events[index]
            raw = event["body"].encode("utf-8")
            start = time.perf_counter()
            headers = {
                "Content-Type": "application/json",
                "X-Debitura-Event": event["type"],
                "X-Debitura-Signature": signature_header(secret, raw),
            }
            try:
                response = session.post(url, data=raw, headers=headers, timeout=timeout)
                status = response.status_code
                try:
                    answer = response.json().get("status")
                except ValueError:
                    answer = None
                text = response.text[:300] if status != 200 else None
            except requests.RequestException as error:
                status, answer, text = "exception", None, repr(error)[:300]
            elapsed = time.perf_counter() - start
            with lock:
                latencies[index] = elapsed
                statuses[str(status)] += 1
                answers[str(answer)] += 1
                if text is not None and len(errors) < 5:
                    errors.append({"id": event["id"], "status": status, "text": text})
        session.close()

    cpu_before = cpu_seconds()
    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    timed = sorted(value for value in latencies if value is not None)
    ok = statuses.get("200", 0)
    return {
        "sent": len(events),
        "wall_s": wall,
        "events_per_s": len(events) / wall if wall else None,
        "accepted_per_s": ok / wall if wall else None,
        "p50_ms": 1000 * percentile(timed, 0.50) if timed else None,
        "p90_ms": 1000 * percentile(timed, 0.90) if timed else None,
        "p99_ms": 1000 * percentile(timed, 0.99) if timed else None,
        "max_ms": 1000 * timed[-1] if timed else None,
        "mean_ms": 1000 * sum(timed) / len(timed) if timed else None,
        "statuses": dict(statuses),
        "answers": dict(answers),
        "errors": errors,
        "client_cpu_s": cpu_seconds() - cpu_before,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the agency's webhook address")
    parser.add_argument("--secret", required=True, help="base64 webhook secret")
    parser.add_argument("--events", required=True, help="JSON lines file")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument(
        "--sandbox-root",
        required=True,
        help="directory holding agency_sandbox (its signatures module signs)",
    )
    args = parser.parse_args()
    host = urlsplit(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"loopback only: {host}")
    sys.path.insert(0, str(Path(args.sandbox_root)))
    from agency_sandbox.signatures import signature_header

    with open(args.events, encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    result = deliver(
        args.url, args.secret, events, args.clients, args.timeout, signature_header
    )
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
