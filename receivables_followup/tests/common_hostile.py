"""Helpers of the hostile-input tests (``test_hostile_*.py``).

Each door of the addon (the agency callback, the portal forms, the agency
report import, the hand-off wizard) is fed inputs that hypothesis generates;
every one must be answered with a clear refusal (a 4xx, a ``UserError``) and
change nothing. What "nothing" means is :data:`STATE_QUERIES`: row counts and
amounts read with SQL before and after each example, which runs in a savepoint
rolled back afterwards, so that examples never see each other.

The examples are derandomized (the same inputs on every run, no ``.hypothesis``
directory) and their number is sized for CI; ``RF_HYPOTHESIS_EXAMPLES=N`` runs N
examples per property instead, for a longer run by hand.
"""

import http.client
import logging
import os
import socket
import tempfile
from collections import Counter, defaultdict
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

_logger = logging.getLogger(__name__)

# hypothesis keeps a cache of the constants it finds in the code under
# ``.hypothesis`` in the working directory, example database or not: out of
# the repository, in the temporary directory (unless one is chosen)
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "rf-hypothesis")

EXAMPLES_VARIABLE = "RF_HYPOTHESIS_EXAMPLES"

#: what no refused input may change: label -> one SQL row
STATE_QUERIES = {
    "inbox events": "SELECT count(*) FROM followup_agency_event",
    "cron triggers": "SELECT count(*) FROM ir_cron_trigger",
    "disputes": """SELECT count(*), coalesce(sum(l.amount), 0)
                     FROM followup_dispute d
                LEFT JOIN followup_dispute_line l ON l.dispute_id = d.id""",
    "promises": "SELECT count(*), max(id) FROM followup_promise",
    "messages": "SELECT count(*), max(id) FROM mail_message",
    "mails": "SELECT count(*) FROM mail_mail",
    "activities": "SELECT count(*) FROM mail_activity",
    # the assets a page renders the first time are not the input's doing
    "attachments": """SELECT count(*) FROM ir_attachment
                       WHERE url IS NULL OR url NOT LIKE '/web/assets/%%'""",
    "cases": """SELECT count(*), coalesce(sum(amount_handed), 0),
                       coalesce(sum(amount_remaining), 0),
                       coalesce(sum(amount_collected), 0),
                       string_agg(state, ',' ORDER BY id)
                  FROM followup_agency_case""",
    "case lines": """SELECT count(*), coalesce(sum(amount_handed), 0)
                       FROM followup_agency_case_line""",
    "agency requests": "SELECT count(*) FROM followup_agency_request",
    "agency payments": """SELECT count(*), coalesce(sum(amount), 0),
                                 string_agg(state, ',' ORDER BY id)
                            FROM followup_agency_payment""",
    "agency imports": """SELECT (SELECT count(*) FROM followup_agency_import),
                                (SELECT count(*) FROM followup_agency_import_line)""",
    "account moves": """SELECT count(*), sum(amount_total), sum(amount_residual),
                               md5(string_agg(concat_ws('|', id, state,
                                   payment_state, amount_residual,
                                   followup_at_agency, followup_promise_date,
                                   followup_dispute_paused, followup_excluded),
                                   ',' ORDER BY id))
                          FROM account_move""",
    "payments": "SELECT count(*), coalesce(sum(amount), 0) FROM account_payment",
    "reconciliations": "SELECT count(*) FROM account_partial_reconcile",
}


def examples(default):
    """How many examples a property runs: ``default`` unless the environment
    asks for more (or fewer) with ``RF_HYPOTHESIS_EXAMPLES``."""
    value = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    return int(value) if value else default


def hostile_settings(default_examples):
    """hypothesis' settings of a door: the same examples every run, no
    example database on disk, no deadline (a loaded CI machine is slow, and a
    test never asserts a timing)."""
    return settings(
        max_examples=examples(default_examples),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


# ----------------------------------------------------------------------
# strategies shared by the doors
# ----------------------------------------------------------------------
#: text with what breaks naive code: NUL, lone surrogates are left out (they
#: cannot travel as UTF-8), right-to-left marks, combining characters, emoji
hostile_text = st.text(
    st.characters(exclude_categories=("Cs",)), max_size=60
) | st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\u202e\u0301\ufeff",
        "😀" * 20,
        "<script>alert(1)</script>",
        "'; DROP TABLE account_move; --",
        "%s%s%n",
        "../../etc/passwd",
        "x" * 5000,
    ]
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=10,
)

#: numbers no amount field should take, and amounts that do not read (the
#: report import's and the portal's)
huge_numbers = st.sampled_from(
    ["9" * 400, "9" * 5000, "1" + "0" * 308, "99999999999999999999.999999", "1e400"]
) | st.integers(min_value=10**12, max_value=10**400).map(str)
hostile_amounts = huge_numbers | st.sampled_from(
    ["-5", "0", "0,00", "NaN", "Infinity", "-inf", "1,2,3.4.5", "12a", "=1+1", "1e5"]
)


# ----------------------------------------------------------------------
# the state, the savepoint, the tally
# ----------------------------------------------------------------------
class HostileMixin:
    """Snapshots, one savepoint per example and the tally of each door.

    ``tally[door]`` counts the examples tried and their outcomes; each door's
    summary is logged when the class ends.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tally = defaultdict(Counter)
        cls.addClassCleanup(cls._log_tally)

    @classmethod
    def _log_tally(cls):
        for door, outcomes in sorted(cls.tally.items()):
            total = outcomes.pop("inputs", 0)
            detail = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
            _logger.info(
                "%s: %s inputs, no 5xx, every refusal changed nothing (%s)",
                door,
                total,
                detail,
            )

    def _count(self, door, outcome):
        self.tally[door]["inputs"] += 1
        self.tally[door][str(outcome)] += 1

    def _state(self, ignore=()):
        self.env.flush_all()
        state = {}
        for label, query in STATE_QUERIES.items():
            if label in ignore:
                continue
            self.env.cr.execute(query)
            state[label] = self.env.cr.fetchone()
        return state

    def _assert_unchanged(self, before, ignore=(), message=""):
        after = self._state(ignore)
        changed = {
            label: (before[label], after[label])
            for label in after
            if before.get(label) != after[label]
        }
        self.assertFalse(changed, f"state changed {message}: {changed}")

    @contextmanager
    def _example(self):
        """One example: whatever it did is rolled back, and the caches with it."""
        self.env.flush_all()
        with closing(self.env.cr.savepoint()):
            yield
        self.env.invalidate_all(flush=False)

    # ------------------------------------------------------------------
    # raw HTTP: what ``requests`` refuses to send (CR/LF in headers, ...)
    # ------------------------------------------------------------------
    def _raw_request(self, method, path, headers, body=b"", chunked=False):
        """Send ``headers`` (a list of ``(bytes, bytes)``) and ``body`` as is;
        return ``(status, content type, body)``."""
        address = urlsplit(self.base_url())
        lines = [
            f"{method} {path} HTTP/1.1".encode(),
            b"Host: " + address.netloc.encode(),
        ]
        # the test's own requests: Odoo's test server lends them its cursor
        key = getattr(self, "http_request_key", None) or ""
        lines.append(b"Cookie: test_request_key=" + key.encode())
        lines += [name + b": " + value for name, value in headers]
        lines.append(b"Connection: close")
        if chunked:
            lines.append(b"Transfer-Encoding: chunked")
            payload = b"".join(
                b"%x\r\n%s\r\n" % (len(body[i : i + 8192]), body[i : i + 8192])
                for i in range(0, len(body), 8192)
            )
            payload += b"0\r\n\r\n"
        else:
            lines.append(b"Content-Length: %d" % len(body))
            payload = body
        with socket.create_connection(
            (address.hostname, address.port), timeout=60
        ) as sock:
            sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + payload)
            response = http.client.HTTPResponse(sock)
            response.begin()
            content = response.read()
            return response.status, response.getheader("Content-Type", ""), content
