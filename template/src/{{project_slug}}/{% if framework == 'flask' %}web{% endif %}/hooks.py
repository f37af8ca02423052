"""Around every request: request id, security headers, CORS, body limit, undeclared methods, status line, access log.

The Flask counterpart of the FastAPI adapter's middleware, in the same order. `after_request` runs for
every response, error pages included, because Flask turns every error into a response first (see
errors.py), and for the answer a `before_request` hook returns (a granted CORS preflight).
"""

import logging
import time
from collections.abc import Mapping
from contextlib import suppress
from functools import partial
from http import HTTPStatus

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge

from ..cors import ORIGIN, REQUEST_METHOD, CorsPolicy
from ..logs import request_id_var
from ..request_ids import REQUEST_ID_HEADER, request_id_from

MAX_BODY_BYTES = 1024 * 1024
# A body the app left unread (an oversized one, or one sent to a refused request) is read and dropped up
# to this size before the answer goes out: closing a socket with unread bytes resets the connection, which
# can destroy the answer on its way. A longer body makes the server close the connection (server.py).
DRAIN_LIMIT_BYTES = 8 * MAX_BODY_BYTES

# Werkzeug answers HEAD on every GET route; the API declares no HEAD, so it is refused and left out of
# `Allow`. (Flask answers no OPTIONS either: see app.py.)
UNDECLARED_METHODS = frozenset({"HEAD"})

# Status lines as uvicorn writes them, with Python's reason phrases: `422 Unprocessable Content`, where
# werkzeug would write `422 UNPROCESSABLE ENTITY`.
STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}

logger = logging.getLogger(__name__)


def install_request_hooks(app: Flask, security_headers: Mapping[str, str], cors: CorsPolicy | None) -> None:
    """`cors`: the CORS policy, if CORS_ORIGINS names any origin."""
    # Werkzeug reads a body sent without Content-Length up to MAX_CONTENT_LENGTH, then stops without an
    # error: one byte more lets `validation` tell a body over the limit from one that ends at it.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1
    app.before_request(_start)
    if cors is not None:
        app.before_request(partial(_answer_cors_preflight, cors))
        app.after_request(_add_cors_headers)
    app.before_request(_refuse_large_body)
    app.before_request(_refuse_undeclared_methods)
    # Keyed by lower-case name: the response's own headers are compared in that case (see `_finish`).
    security_headers_by_name = {name.lower(): (name, value) for name, value in security_headers.items()}
    app.after_request(partial(_finish, security_headers_by_name))
    app.teardown_request(_drain_unread_body)
    app.teardown_request(_forget)


def _start() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_id_token = request_id_var.set(g.request_id)
    g.started = time.perf_counter()


def _refuse_large_body() -> None:
    """Refuse a declared length over the limit before routing, whether or not the route reads a body."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge


def _answer_cors_preflight(cors: CorsPolicy) -> Response | None:
    """Answer a preflight the policy grants, before routing; decide what every other answer gets."""
    g.cors_answer = cors.answer(request.method, request.headers.get(ORIGIN), request.headers.get(REQUEST_METHOD))
    if not g.cors_answer.preflight:
        return None
    granted = Response(status=204)
    del granted.headers["Content-Type"]  # an empty answer, typed as nothing, as Starlette sends it
    return granted


def _add_cors_headers(response: Response) -> Response:
    response.vary.add(ORIGIN)
    response.headers.update(g.cors_answer.headers)
    return response


def _refuse_undeclared_methods() -> None:
    if request.url_rule is None or request.method not in UNDECLARED_METHODS:
        return  # routing answers 404 or 405 itself
    allowed = current_app.url_map.bind_to_environ(request.environ).allowed_methods()
    raise MethodNotAllowed(valid_methods=allowed)


def _finish(security_headers: Mapping[str, tuple[str, str]], response: Response) -> Response:
    response.status = STATUS_LINES.get(response.status_code, response.status)
    headers = response.headers
    headers[REQUEST_ID_HEADER] = g.request_id
    # One pass over the response's headers: werkzeug's `setdefault` searches them, by raising and catching
    # KeyError, once per header added, which took a tenth of the CPU of GET /health/live.
    present = {name.lower() for name, _ in headers.items()}
    headers.extend([header for name, header in security_headers.items() if name not in present])
    logger.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={"duration_ms": round((time.perf_counter() - g.started) * 1000, 2)},
    )
    return response


def _drain_unread_body(_error: BaseException | None) -> None:
    """Read what is left of the body (Flask runs this before the server sends the answer)."""
    if not request.environ.get("wsgi.input_terminated"):
        return  # the server's stream may not end with the body: reading on could wait for the next request
    stream = request.environ["wsgi.input"]
    left = DRAIN_LIMIT_BYTES
    with suppress(OSError):  # the client went away: nothing is left to answer
        while left > 0 and (chunk := stream.read(min(left, 64 * 1024))):
            left -= len(chunk)


def _forget(_error: BaseException | None) -> None:
    request_id_var.reset(g.request_id_token)
