"""``python -m agency_sandbox``: serve the sandbox until interrupted.

The first line on stdout is the base URL (``http://127.0.0.1:8899``), so a script or
the test helper can read where it listens (``--port 0`` picks a free port).
"""

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading

from .server import start


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m agency_sandbox",
        description="Sandbox collection agency speaking Debitura's Customer API v1.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    parser.add_argument("--port", type=int, default=8899, help="0 picks a free port")
    parser.add_argument(
        "--db", help="SQLite file kept across restarts (default: a temporary file)"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("AGENCY_SANDBOX_API_KEY", "sandbox-api-key"),
        help="value the XApiKey header must carry (env AGENCY_SANDBOX_API_KEY)",
    )
    parser.add_argument(
        "--webhook-retry-delays",
        help="comma-separated seconds between delivery attempts, e.g. 0.1,0.1,0.2",
    )
    parser.add_argument("--seed", type=int, help="seed of the random fault rules")
    parser.add_argument("--verbose", action="store_true", help="log to stderr")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the server in the foreground; SIGTERM and Ctrl-C stop it cleanly."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    temp_dir = None
    db_path = args.db
    if not db_path:
        temp_dir = tempfile.mkdtemp(prefix="agency_sandbox_")
        db_path = os.path.join(temp_dir, "state.sqlite")
    overrides = {}
    if args.webhook_retry_delays:
        delays = [float(part) for part in args.webhook_retry_delays.split(",")]
        overrides["webhook_retry_delays"] = delays
    running = start(db_path, args.api_key, args.host, args.port, args.seed, overrides)
    print(running.base_url, flush=True)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it runs elsewhere.
        threading.Thread(target=running.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        running.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
