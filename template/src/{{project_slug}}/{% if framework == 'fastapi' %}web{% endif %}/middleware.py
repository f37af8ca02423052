"""ASGI middleware around every request, pure ASGI (no per-request Request objects).

Outermost, `RequestContextMiddleware` gives each response its request id and security headers and logs
it. `HeadMiddleware` answers HEAD as GET without the body. `CorsMiddleware` adds the CORS headers, so that
a page may read every answer, problems included. Innermost, `ProblemBoundaryMiddleware` turns an oversized
body (413) and a crash (500) into problem responses.
"""

import logging
import time
from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..contract.cors import ORIGIN, REQUEST_METHOD, CorsPolicy
from ..contract.problems import problem
from ..contract.request_ids import REQUEST_ID_HEADER, request_id_from
from ..logs import request_id_var
from .errors import problem_response

MAX_BODY_BYTES = 1024 * 1024

logger = logging.getLogger(__name__)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, security_headers: Mapping[str, str]) -> None:
        self.app = app
        self.security_headers = security_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in self.security_headers.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            logger.info("%s %s %s", scope["method"], scope["path"], status, extra={"duration_ms": duration_ms})
            request_id_var.reset(token)


class HeadMiddleware:
    """HEAD is GET without the body (RFC 9110 section 9.3.2), on every route that answers GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


class CorsMiddleware:
    """The shared CORS policy (contract/cors.py): a granted preflight is answered here, before routing."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        answer = self.policy.answer(scope["method"], headers.get(ORIGIN), headers.get(REQUEST_METHOD))

        async def send_with_cors_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header(ORIGIN)
                response_headers.update(answer.headers)
            await send(message)

        if answer.preflight:
            await Response(status_code=204)(scope, receive, send_with_cors_headers)
        else:
            await self.app(scope, receive, send_with_cors_headers)


class ProblemBoundaryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared_length = Headers(scope=scope).get("content-length", "0")
        if declared_length.isdigit() and int(declared_length) > MAX_BODY_BYTES:
            await problem_response(problem(413))(scope, receive, send)
            return
        response_started = False

        async def watch_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _limit_body(receive), watch_start)
        except Exception:
            logger.exception("unhandled error")
            if response_started:
                raise
            await problem_response(problem(500))(scope, receive, send)


def _limit_body(receive: Receive) -> Receive:
    """Stop reading a body without Content-Length once it grows past the limit."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(413)
        return message

    return limited_receive
