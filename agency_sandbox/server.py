"""Wiring: SQLite file, sandbox state, WSGI app, Werkzeug server, delivery worker."""

import logging

from werkzeug.serving import WSGIRequestHandler, make_server

from . import settings as settings_module
from .app import SandboxApp
from .core import Sandbox
from .delivery import DeliveryWorker
from .store import Store


class QuietHandler(WSGIRequestHandler):
    """Request handler that leaves access logging to the sandbox's own log."""

    def log_request(self, code="-", size="-"):
        """Access lines are not printed; ``GET /_sandbox/requests`` has them."""


class Running:
    """A started sandbox: ``serve_forever()`` it, then ``close()`` it."""

    def __init__(self, server, sb, worker):
        self.server = server
        self.sb = sb
        self.worker = worker

    @property
    def base_url(self):
        """``http://host:port`` the server listens on."""
        return self.sb.base_url

    def serve_forever(self):
        """Serve requests until ``shutdown()`` is called from another thread."""
        self.server.serve_forever(poll_interval=0.1)

    def shutdown(self):
        """Stop ``serve_forever()`` (call from another thread)."""
        self.server.shutdown()

    def close(self):
        """Stop the worker and release the socket and the database."""
        self.worker.stop()
        self.server.server_close()
        self.sb.store.close()


def start(db_path, api_key, host="127.0.0.1", port=8899, seed=None, overrides=None):
    """Open the database, bind the server and start the webhook worker.

    :param overrides: settings to store before serving (e.g. short retry delays)
    :return: a ``Running`` whose ``serve_forever()`` the caller runs
    """
    store = Store(db_path)
    sb = Sandbox(store, api_key, seed=seed)
    if overrides:
        with store.tx() as db:
            settings_module.patch(db, overrides)
    app = SandboxApp(sb)
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True
    _support_resets(server, app)
    shown_host = f"[{host}]" if ":" in host else host
    sb.base_url = f"http://{shown_host}:{server.server_port}"
    worker = DeliveryWorker(sb)
    worker.start()
    logging.getLogger("agency_sandbox").info("listening on %s", sb.base_url)
    return Running(server, sb, worker)


def _support_resets(server, app):
    """Close reset connections without the polite FIN, so the client sees a RST.

    ``socketserver`` shuts the write side down before closing; for a socket the app
    marked (a ``reset`` fault, zero linger already set), closing directly makes the
    kernel send RST instead.
    """
    polite = server.shutdown_request

    def shutdown_request(request):
        try:
            fileno = request.fileno()
        except OSError:
            fileno = -1
        if fileno in app.reset_sockets:
            app.reset_sockets.discard(fileno)
            server.close_request(request)
            return
        polite(request)

    server.shutdown_request = shutdown_request
