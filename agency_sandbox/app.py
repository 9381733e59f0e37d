"""The WSGI application: routing, API-key check, faults, idempotency, request log.

A Customer API request goes through, in this order: the fault rules (a reset, timeout,
5xx or 429 answers before anything is processed), routing, the ``XApiKey`` check, the
``Idempotency-Key`` reservation (``POST /cases``), the injected latency (so a slow
request holds its key and a concurrent retry sees the 409), the handler, and finally
a ``lost_response`` fault, which drops the connection after the work was committed.
Control requests (``/_sandbox/...``) skip faults and authentication.
"""

import json
import logging
import socket
import struct
import time

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import api_cases, api_test, api_webhooks, control, faults, idempotency
from .http import (
    JSON_TYPES,
    HttpError,
    api_error,
    business_error,
    business_error_item,
    problem_details,
    validation_error,
)
from .store import dumps

LOG = logging.getLogger("agency_sandbox")
SECRET_HEADERS = frozenset(
    {"xapikey", "authorization", "cookie", "proxy-authorization"}
)
# A create body with 1,000 claim lines is about 100 KB: it must fit whole.
MAX_LOGGED_BODY = 256 * 1024
DROP_CLOSE, DROP_RESET = "close", "reset"


def logged_body(request):
    """What the request log keeps of a body: ``(body, truncated)``.

    A JSON body up to ``MAX_LOGGED_BODY`` bytes is kept as the parsed document (so a
    test can compare, say, the exact ``claimLines`` a client sent); a longer or
    unparsable one, and any ``text/*`` body, as text cut to that size; other bodies
    (multipart uploads, consumed by the form parser) not at all.
    """
    mimetype = request.mimetype or ""
    is_json = mimetype in JSON_TYPES or mimetype.endswith("+json")
    if not is_json and not mimetype.startswith("text/"):
        return None, False
    raw = request.get_data()
    if len(raw) > MAX_LOGGED_BODY:
        return raw[:MAX_LOGGED_BODY].decode("utf-8", "replace"), True
    if is_json:
        try:
            return json.loads(raw), False
        except ValueError:
            pass
    return raw.decode("utf-8", "replace"), False


class Options:
    """How a route is served."""

    def __init__(self, auth=True, idempotent=False, problem_details=False):
        self.auth = auth
        self.idempotent = idempotent
        # Errors as ``ProblemDetails`` instead of ``ApiErrorResponseDto``.
        self.problem_details = problem_details


def _routes():
    for module, options in (
        (api_cases, Options()),
        (api_webhooks, Options()),
        (api_test, Options()),
        (control, Options(auth=False)),
    ):
        for path, methods, handler in module.ROUTES:
            opts = options
            if handler is api_cases.create_case:
                opts = Options(idempotent=True)
            elif handler is api_cases.users:
                # The spec documents GET /users' 400, 401 and 500 as ProblemDetails.
                opts = Options(problem_details=True)
            yield Rule(path, methods=methods, endpoint=handler), opts


class SandboxApp:
    """WSGI callable serving the Customer API subset and the control API."""

    def __init__(self, sb):
        self.sb = sb
        rules = list(_routes())
        self.options = {rule.endpoint: opts for rule, opts in rules}
        self.url_map = Map([rule for rule, _ in rules], strict_slashes=False)
        self.reset_sockets = set()

    def __call__(self, environ, start_response):
        request = Request(environ)
        started = time.monotonic()
        is_control = request.path.rstrip("/").startswith("/_sandbox")
        fault = None if is_control else self._take_fault(request)
        outcome = self._serve(request, fault)
        response = outcome if isinstance(outcome, Response) else None
        if not is_control or self.sb.current_settings()["log_control_requests"]:
            self._log(request, response, fault, started)
        if response is None:
            self._drop(environ, outcome)
        return response(environ, start_response)

    def _take_fault(self, request):
        with self.sb.store.tx() as db:
            return faults.take_http_fault(self.sb, db, request.method, request.path)

    def _serve(self, request, fault):
        kind = fault["kind"] if fault else None
        if kind == "reset":
            return DROP_RESET
        if kind == "timeout":
            time.sleep(fault["seconds"])
            return DROP_CLOSE
        if kind in ("status", "rate_limit"):
            return self._fault_response(fault)
        try:
            response = self._dispatch(request, fault)
        except HttpError as error:
            response = error.response
        return DROP_CLOSE if kind == "lost_response" else response

    @staticmethod
    def _fault_response(fault):
        retry_after = fault.get("retryAfter")
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if fault["kind"] == "rate_limit":
            message = f"Rate limit exceeded. Retry after {retry_after} seconds."
            return api_error(
                429, "TooManyRequests", message, "RateLimitExceeded", headers,
                retryAfter=retry_after,
            )  # fmt: skip
        status = fault["status"]
        extra = {"retryAfter": retry_after} if retry_after is not None else {}
        return api_error(
            status, "ServerError", f"Injected fault: HTTP {status}.", None, headers,
            **extra,
        )  # fmt: skip

    def _dispatch(self, request, fault):
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            handler, args = adapter.match()
        except NotFound:
            return api_error(404, "NotFound", f"No route for {request.path}.")
        except MethodNotAllowed:
            return api_error(405, "MethodNotAllowed", f"{request.method} not allowed.")
        opts = self.options[handler]
        response = self._handle(request, handler, args, opts, fault)
        if opts.problem_details and response.status_code >= 400:
            response = problem_details(response, request.path)
        return response

    def _handle(self, request, handler, args, opts, fault):
        if opts.auth and not self.sb.key_matches(request.headers.get("XApiKey")):
            return api_error(
                401, "Unauthorized", "Missing or invalid API key (XApiKey header)."
            )
        key = request.headers.get("Idempotency-Key")
        if opts.idempotent and key is not None:
            return self._idempotent(request, handler, args, key, fault)
        self._pause(fault)
        return self._call(handler, request, args)

    def _call(self, handler, request, args):
        try:
            return handler(self.sb, request, **args)
        except HttpError as error:
            return error.response
        except Exception:
            LOG.exception("Unhandled error on %s %s", request.method, request.path)
            return api_error(500, "ServerError", "An unexpected error occurred.")

    def _pause(self, fault):
        """Injected latency: the ``latency`` rule and the ``latency_ms`` setting."""
        delay = self.sb.current_settings()["latency_ms"] / 1000
        if fault and fault["kind"] == "latency":
            delay += fault["seconds"]
        if delay > 0:
            time.sleep(delay)

    def _idempotent(self, request, handler, args, key, fault):
        if not key.strip() or len(key) > idempotency.MAX_KEY_LENGTH:
            message = "Idempotency-Key must be 1 to 255 characters."
            return validation_error({"Idempotency-Key": [message]})
        scope = idempotency.scope(self.sb.api_key, request.method, request.path)
        print_ = idempotency.fingerprint(request.get_data())
        with self.sb.store.tx() as db:
            ttl = self.sb.settings(db)["idempotency_ttl_seconds"]
            verdict, row = idempotency.reserve(db, scope, key, print_, time.time(), ttl)
        if verdict == "mismatch":
            message = "This Idempotency-Key was used with a different request body."
            return business_error([business_error_item("IdempotencyConflict", message)])
        if verdict == "in_flight":
            message = "A request with this Idempotency-Key is still being processed."
            return api_error(409, "Conflict", message, "IdempotencyRequestInProgress")
        if verdict == "replay":
            return Response(
                row["body"], status=row["status"], content_type=row["headers"]
            )
        try:
            self._pause(fault)
            # The work and the stored response commit together: a crash can lose
            # both, never keep the case while forgetting the key.
            with self.sb.store.tx() as db:
                response = self._call(handler, request, args)
                idempotency.complete(
                    db, scope, key, response.status_code, response.content_type,
                    response.get_data(), time.time(),
                )  # fmt: skip
        except BaseException:
            with self.sb.store.tx() as db:
                idempotency.release(db, scope, key)
            raise
        return response

    def _log(self, request, response, fault, started):
        headers = {
            name: ("***" if name.lower() in SECRET_HEADERS else value)
            for name, value in request.headers.items()
        }
        body, truncated = logged_body(request)
        entry = {
            "at": self.sb.clock.stamp(),
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "status": response.status_code if response is not None else None,
            "fault": fault["kind"] if fault else None,
            "durationMs": int((time.monotonic() - started) * 1000),
            "headers": headers,
            "idempotencyKey": request.headers.get("Idempotency-Key"),
            "bodySize": request.content_length or len(request.get_data()),
            "body": body,
            "bodyTruncated": truncated,
        }
        with self.sb.store.tx() as db:
            cursor = db.execute(
                "INSERT INTO requests_log (doc) VALUES (?)", (dumps(entry),)
            )
            # Keep the newest entries only, so long benchmark runs do not grow the file.
            limit = self.sb.settings(db)["request_log_limit"]
            db.execute(
                "DELETE FROM requests_log WHERE seq <= ?", (cursor.lastrowid - limit,)
            )

    def _drop(self, environ, how):
        """Close the client connection without an HTTP response."""
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            if how == DROP_RESET:
                # Closing with a zero linger sends a TCP RST (see server.py).
                linger = struct.pack("ii", 1, 0)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.reset_sockets.add(sock.fileno())
                # Ends the handler's keep-alive loop without sending anything.
                sock.shutdown(socket.SHUT_RD)
            else:
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError(f"agency_sandbox fault: connection {how}")
