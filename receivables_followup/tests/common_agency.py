"""A Debitura sandbox on loopback for tests that talk to a collection agency.

``agency_sandbox`` lives at the repository root, next to the addon, not in the
addons path: the root is put on ``sys.path`` and one sandbox process is started
per test class. A missing sandbox is an error of the class, never a skip: the
agency tests must not pass by not running.
"""

import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

from odoo.tests import common as odoo_common

#: the repository root: parent of the addon directory
REPO_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = ("127.0.0.1", "localhost")


def sandbox_testing():
    """The ``agency_sandbox.testing`` module; raise if it cannot be found."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    try:
        from agency_sandbox import testing
    except ImportError as error:
        raise RuntimeError(
            f"agency_sandbox cannot be imported from {REPO_ROOT}: the agency tests "
            "need the sandbox shipped at the repository root"
        ) from error
    return testing


class AgencySandboxMixin:
    """Starts ``cls.sandbox`` (a ``SandboxProcess`` on a free port) for the class.

    The API key is random per class, so a test can look for it in logs and
    errors without matching anything else.
    """

    sandbox_settings = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        testing = sandbox_testing()
        cls.sandbox_api_key = f"rf-test-key-{secrets.token_hex(12)}"
        sandbox = testing.SandboxProcess(
            api_key=cls.sandbox_api_key, port=0, settings=cls.sandbox_settings
        )
        cls.addClassCleanup(sandbox.cleanup)
        cls.addClassCleanup(sandbox.stop)
        cls.sandbox = sandbox.start()

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's guard of outgoing requests compares the timeout with a number,
        # which fails on requests' (connect, read) tuples, and stretches short
        # timeouts to 10 s, which would hide the client's own timeout handling.
        # Loopback goes straight out; anything else still meets Odoo's guard.
        if urlsplit(request.url).hostname in LOOPBACK:
            return odoo_common._super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)
