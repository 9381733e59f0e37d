"""A sandbox collection agency speaking Debitura's Customer API v1 on loopback.

Start it with ``python -m agency_sandbox --port 8899 --db state.sqlite --api-key KEY``;
drive it from tests with ``agency_sandbox.testing``. See ``agency_sandbox/README.md``.
"""

__version__ = "1.0.0"
