"""Around every request: request id, security headers, CORS, body limit and access log.

The Flask counterpart of the FastAPI adapter's middleware, in the same order. `after_request` runs for
every response, error pages included, because Flask turns every error into a response first (see
errors.py), and for the answer a `before_request` hook returns (a granted CORS preflight).
"""

import logging
import time
from collections.abc import Mapping
from contextlib import suppress
from functools import partial

from flask import Flask, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..contract.cors import ORIGIN, REQUEST_METHOD, CorsPolicy
from ..contract.request_ids import REQUEST_ID_HEADER, request_id_from
from ..logs import request_id_var

MAX_BODY_BYTES = 1024 * 1024
# A body the app left unread (an oversized one, or one sent to a refused request) is read and dropped up
# to this size before the answer goes out: closing a socket with unread bytes resets the connection, which
# can destroy the answer on its way. A longer body makes the server close the connection (server.py).
DRAIN_LIMIT_BYTES = 8 * MAX_BODY_BYTES

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
    app.after_request(partial(_finish, security_headers))
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
    return Response(status=204) if g.cors_answer.preflight else None


def _add_cors_headers(response: Response) -> Response:
    response.vary.add(ORIGIN)
    response.headers.update(g.cors_answer.headers)
    return response


def _finish(security_headers: Mapping[str, str], response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.request_id
    for name, value in security_headers.items():
        response.headers.setdefault(name, value)
    duration_ms = round((time.perf_counter() - g.started) * 1000, 2)
    logger.info("%s %s %s", request.method, request.path, response.status_code, extra={"duration_ms": duration_ms})
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
