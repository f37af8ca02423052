"""Parity: the Flask and the FastAPI service generated from the same answers serve one HTTP contract.

Both projects are installed with uv and started with their production command (gunicorn for Flask,
uvicorn for FastAPI) on free loopback ports, each on a fresh database (SQLite or PostgreSQL, and FastAPI
sync or async, as `PAIRINGS` says), once without and once with CORS. One list of requests goes to both, in
order, so that ids match; every pair of answers must agree on what clients depend on:
- the status code;
- the body, byte for byte once timestamps are reduced to their notation and secrets masked;
- the headers that carry meaning (`SIGNIFICANT_HEADERS`), byte for byte: Content-Type where there is a body,
  Location, Link, Allow, WWW-Authenticate, Retry-After, Cache-Control, the CORS headers (Access-Control-*,
  Vary), the security headers, and Set-Cookie's names and flags;
- X-Request-ID, which each echoes when the request's is sane and otherwise makes fresh.
A HEAD is answered as its GET (the same status and headers) with no byte of body. Each case also names the
status it expects, so that two equally wrong answers do not pass. The OpenAPI documents must be the same
bytes. With CORS, every case is also sent from a page of the allowed origin, and browser requests of allowed
and refused origins (`CROSS_ORIGIN`) get the same CORS headers, byte for byte, and the decision they expect.

Left out, as no client depends on them: reason phrases; the Content-Type of an empty body (a 204, a CORS
preflight); the headers each HTTP server adds (Date, Server, Connection, Content-Length, Transfer-Encoding);
what the servers answer by themselves to malformed HTTP or over their own limits; and forms that the two
frameworks' parsers read in their own ways (malformed multipart bodies, bytes that are not UTF-8).

This runs once per `auth` answer. With authentication, each service's client first signs in (its own token,
session or key: secrets differ between the two services, so they are masked wherever they are answered), the
item requests carry those credentials, and the answer's own cases (`AUTH_CASES`) try the credentials that
must be refused, from none at all to a reused refresh token.
"""

import dataclasses
import hashlib
import hmac
import json
import os
import re
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from openapi_spec_validator import validate

from .combinations import Answers
from .conftest import SLUG, python_for, render, run, tool
from .credentials import PASSWORD, identity_provider_module, issue_api_key, sign_in
from .servers import serving

# One worker runs the whole module: each auth answer's projects are installed once.
pytestmark = [pytest.mark.deep, pytest.mark.xdist_group("parity")]

ANSWERS = {"python_version": "3.13"}
# Per auth answer, the database and FastAPI's db_style (Flask's is sync): each pairing once, within the time budget.
PAIRINGS = {
    "none": {"database": "sqlite", "db_style": "sync"},
    "jwt": {"database": "sqlite", "db_style": "async"},  # the default answers
    "session": {"database": "postgresql", "db_style": "async"},
    "api_key": {"database": "postgresql", "db_style": "sync"},
    "oidc": {"database": "sqlite", "db_style": "async"},
}
AUTHS = tuple(PAIRINGS)
SECRET_KEY = "s" * 40
FRAMEWORKS = ("fastapi", "flask")
ORIGIN = "https://app.example"

# Compared on every response (Content-Type only where there is a body); a header absent from both is equal.
SIGNIFICANT_HEADERS = (
    "content-type",
    "location",
    "allow",
    "retry-after",
    "x-content-type-options",
    "x-frame-options",
    "content-security-policy",
    "referrer-policy",
    "cross-origin-opener-policy",
    "strict-transport-security",
    "www-authenticate",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-expose-headers",
    "vary",
    "set-cookie",
    "cache-control",
    "link",
)
TIMESTAMP = re.compile(rb'"(created_at|updated_at)":"([^"]*)"')
# Secrets each service makes for itself: equal in shape, never in value.
SECRET = re.compile(rb'"(access_token|refresh_token|csrf_token)":"[^"]+"')
SESSION_COOKIE_VALUE = re.compile(r"session=[^;]+")
# In a case's headers or body, replaced by the secret the service being asked handed out.
PLACEHOLDER = re.compile(r"<(access_token|refresh_token|session|csrf_token|api_key)>")
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
GENERATED_REQUEST_ID = re.compile(r"[0-9a-f]{32}")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One request, the status both services must answer it with, and their known differences."""

    method: str
    path: str
    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False  # send the body without Content-Length
    compare_body: bool = True
    signed_in: bool = True  # send the credentials the client signed in with (the case's own headers win)

    def __or__(self, headers: dict[str, str]) -> "Case":
        """The same request with these headers added."""
        return dataclasses.replace(self, headers=self.headers | headers)

    def __str__(self) -> str:
        headers = f" {self.headers}" if self.headers else ""
        body = "" if self.body is None else f" body={self.body[:60]!r}{'...' if len(self.body) > 60 else ''}"
        return f"{self.method} {self.path}{headers}{body}"


def send_json(method: str, path: str, status: int, value: Any) -> Case:
    return Case(method, path, status, json.dumps(value).encode(), {"Content-Type": JSON})


def send_raw(method: str, path: str, status: int, body: bytes, content_type: str | None = None) -> Case:
    return Case(method, path, status, body, {"Content-Type": content_type} if content_type else {})


LAMP = {"name": "Lamp", "description": "A desk lamp", "price": 19.5}
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

CASES = [
    # Meta
    Case("GET", "/health/live", 200),
    Case("GET", "/health/ready", 200),
    Case("GET", "/health/live?unknown=1", 200),
    Case("GET", "/docs", 200),
    Case("GET", "/redoc", 200),  # the same bytes: the same asset URLs, named by their content
    Case("GET", "/docs/assets/redoc.js", 404),
    Case("GET", "/docs/assets/", 404),
    Case("POST", "/docs/assets/redoc.js", 405),
    Case("GET", "/openapi.json", 200, compare_body=False),  # compared by test_same_openapi_document
    # Unknown routes, trailing and doubled slashes, wrong methods
    Case("GET", "/", 404),
    Case("GET", "/nowhere", 404),
    Case("GET", "/health", 404),
    Case("GET", "/health/live/", 404),
    Case("GET", "/items/", 404),
    Case("POST", "/items/", 404, json.dumps(LAMP).encode(), {"Content-Type": JSON}),
    Case("GET", "/items//1", 404),
    Case("GET", "//items", 404),
    Case("POST", "/health/live", 405),
    Case("HEAD", "/health/live", 200),
    Case("OPTIONS", "/health/live", 405),
    Case("PUT", "/items", 405),
    Case("DELETE", "/items", 405),
    Case("HEAD", "/items", 200),
    Case("PUT", "/items/1", 405),
    Case("OPTIONS", "/items", 405, headers={"Access-Control-Request-Method": "GET"}),
    Case("OPTIONS", "/items/1", 405),
    Case("HEAD", "/nowhere", 404),
    # An empty list, and paging parameters
    Case("GET", "/items", 200),
    Case("GET", "/items?page=0", 422),
    Case("GET", "/items?per_page=0", 422),
    Case("GET", "/items?per_page=101", 422),
    Case("GET", "/items?per_page=100", 200),
    Case("GET", "/items?page=x&per_page=y", 422),
    Case("GET", "/items?page=", 422),
    Case("GET", "/items?page=1.5", 422),
    Case("GET", "/items?page=1&page=0", 422),  # the last of repeated values counts
    Case("GET", "/items?page=0&page=1", 200),
    Case("GET", "/items?page=%201", 200),
    Case("GET", "/items?page=1_0", 200),
    Case("GET", "/items?page=%zz", 422),
    Case("GET", "/items?page=1;per_page=0", 422),
    Case("GET", "/items?per_page=2&per_page=101", 422),
    Case("GET", "/ITEMS", 404),
    Case("GET", "/items?page=99999999999999999999", 422),
    Case("GET", "/items?filter=" + "a" * 8000, 200),  # a request line of 8 KiB is served
    # Creation
    send_json("POST", "/items", 201, LAMP),
    send_json("POST", "/items", 201, {"name": "Lämp ✓ 灯", "description": None, "price": 0}),
    send_json("POST", "/items", 201, {"name": "x" * 100, "description": "d" * 1000, "price": "12.5"}),
    send_raw("POST", "/items", 201, b'{"name": "Vendor", "price": 1}', "application/vnd.api+json"),
    send_raw("POST", "/items", 201, b'{"name": "Charset", "price": 1}', "application/json; charset=utf-8"),
    send_raw("POST", "/items", 201, b'{"name": "first", "name": "last", "price": 2}', JSON),
    send_raw("POST", "/items", 201, b'{"name": "Upper", "price": 1}', "APPLICATION/JSON"),
    send_raw("POST", "/items", 201, b'{"name": "Merge", "price": 1}', "application/merge-patch+json"),
    send_raw("POST", "/items", 201, b'\xef\xbb\xbf{"name": "BOM", "price": 1}', JSON),
    send_raw("POST", "/items", 201, '{"name": "UTF-16", "price": 1}'.encode("utf-16"), JSON),
    # Prices are amounts to the cent (NUMERIC(12, 2)), answered as JSON numbers
    send_json("POST", "/items", 201, {"name": "Cents", "price": 0.1}),
    send_json("POST", "/items", 201, {"name": "Most", "price": 9999999999.99}),
    send_json("POST", "/items", 201, {"name": "String", "price": "12.50"}),
    send_json("POST", "/items", 422, {"name": "Lamp", "price": -0.01}),
    send_json("POST", "/items", 422, {"name": "Lamp", "price": 1.005}),
    send_json("POST", "/items", 422, {"name": "Lamp", "price": "12.345"}),
    send_json("POST", "/items", 422, {"name": "Lamp", "price": 0.1 + 0.2}),
    send_json("POST", "/items", 422, {"name": "Lamp", "price": 10_000_000_000}),
    send_json("POST", "/items", 422, {"name": "Lamp", "price": 1e-7}),
    send_raw("POST", "/items", 422, b'{"name": "Lamp", "price": -Infinity}', JSON),
    # Invalid bodies
    send_json("POST", "/items", 422, {"name": "", "price": -1, "colour": "red"}),
    send_json("POST", "/items", 422, {}),
    send_json("POST", "/items", 422, {"name": "x" * 101, "description": "d" * 1001, "price": "s3cret"}),
    send_json("POST", "/items", 422, {"name": None, "price": None}),
    send_json("POST", "/items", 422, {"name": 1, "price": True}),
    send_json("POST", "/items", 422, {"name": "La\u0000mp", "description": "\u0000", "price": 1}),
    send_json("POST", "/items", 422, None),
    send_json("POST", "/items", 422, []),
    send_json("POST", "/items", 422, "Lamp"),
    send_raw("POST", "/items", 422, b'{"name": ', JSON),
    send_raw("POST", "/items", 422, b"{'name': 'Lamp'}", JSON),
    send_raw("POST", "/items", 422, b'{"name": "Lamp", "price": NaN}', JSON),
    send_raw("POST", "/items", 422, b'{"name": "Lamp", "price": Infinity}', JSON),
    send_raw("POST", "/items", 422, b"", JSON),
    send_raw("POST", "/items", 422, b""),
    send_raw("POST", "/items", 422, json.dumps(LAMP).encode()),  # no Content-Type: not parsed as JSON
    send_raw("POST", "/items", 422, json.dumps(LAMP).encode(), "text/plain"),
    send_raw("POST", "/items", 422, b"name=Lamp&price=1", "application/x-www-form-urlencoded"),
    send_raw("POST", "/items", 422, json.dumps(LAMP).encode(), "text/json"),
    send_raw("POST", "/items", 422, json.dumps(LAMP).encode(), "json"),
    send_raw("POST", "/items", 422, json.dumps(LAMP).encode(), "application/json, text/plain"),
    send_raw("POST", "/items", 400, b'{"name": "\xff", "price": 1}', JSON),  # not UTF-8
    send_raw("POST", "/items", 400, b"[" * 100_000 + b"]" * 100_000, JSON),  # nested too deeply
    send_raw("POST", "/items", 400, b'{"name": "Lamp", "price": 1' + b"0" * 5000 + b"}", JSON),  # too many digits
    # Body size: exactly the limit is fine, one byte more is not, with or without Content-Length
    send_raw("POST", "/items", 201, b'{"name": "Big", "price": 1}'.ljust(MIB), JSON),
    send_raw("POST", "/items", 413, b'{"name": "Big", "price": 1}'.ljust(MIB + 1), JSON),
    Case("POST", "/items", 413, b" " * (MIB + 1), {"Content-Type": JSON}, chunked=True),
    Case("DELETE", "/items/1", 413, b" " * (MIB + 1)),
    Case("PUT", "/nowhere", 413, b" " * (MIB + 1)),
    # Reading, paging through what was created
    Case("GET", "/items/1", 200),
    Case("GET", "/items/2", 200),
    Case("GET", "/items", 200),
    Case("GET", "/items?page=2&per_page=2", 200),
    Case("GET", "/items?page=99&per_page=2", 200),
    Case("GET", "/items?per_page=1&unknown=x", 200),
    Case("GET", "/items?page=3&per_page=3", 200),
    Case("GET", "/items/999", 404),
    Case("GET", "/items/2147483647", 404),
    Case("GET", "/items/0", 422),
    Case("GET", "/items/-1", 422),
    Case("GET", "/items/abc", 422),
    Case("GET", "/items/2147483648", 422),
    Case("GET", "/items/1.0", 200),
    Case("GET", "/items/1.5", 422),
    Case("GET", "/items/+1", 200),
    Case("GET", "/items/%201", 200),
    Case("GET", "/items/%31", 200),
    Case("GET", "/items/%2F1", 404),
    Case("GET", "/items/%EF%BC%91", 422),  # a full-width digit one
    Case("GET", "/items/1/", 404),
    Case("GET", "/items/1/extra", 404),
    # Partial updates
    send_json("PATCH", "/items/1", 200, {"price": 25}),
    send_json("PATCH", "/items/1", 200, {"description": None}),
    send_json("PATCH", "/items/1", 200, {}),
    send_json("PATCH", "/items/1", 422, {"name": None}),
    send_json("PATCH", "/items/1", 422, {"price": None, "colour": "red"}),
    send_json("PATCH", "/items/1", 422, {"name": None, "description": None, "price": None}),
    send_json("PATCH", "/items/1", 422, {"price": 1.999}),
    send_json("PATCH", "/items/1", 200, {"price": "7.10"}),
    send_json("PATCH", "/items/999", 404, {"price": 1}),
    send_json("PATCH", "/items/999", 422, {"price": -1}),
    send_json("PATCH", "/items/abc", 422, {"name": None, "colour": "red"}),  # path and body errors together
    send_raw("PATCH", "/items/abc", 422, b'{"name": ', JSON),  # malformed JSON is reported alone
    send_raw("PATCH", "/items/abc", 422, b""),
    send_raw("PATCH", "/items/0", 422, b"{}", "text/plain"),
    Case("GET", "/items/1", 200),
    # Deletion
    Case("DELETE", "/items/2", 204),
    Case("DELETE", "/items/2", 404),
    Case("GET", "/items/2", 404),
    Case("DELETE", "/items/abc", 422),
    Case("GET", "/items", 200),
    # Request ids: echoed when sane, replaced otherwise, on every kind of answer
    Case("GET", "/health/live", 200, headers={"X-Request-ID": "abc-123"}),
    Case("GET", "/health/live", 200, headers={"X-Request-ID": "A.b_c:d-" + "e" * 120}),
    Case("GET", "/health/live", 200, headers={"X-Request-ID": ""}),
    Case("GET", "/health/live", 200, headers={"X-Request-ID": "has spaces"}),
    Case("GET", "/health/live", 200, headers={"X-Request-ID": "x" * 129}),
    Case("GET", "/health/live", 200, headers={"X-Request-ID": "<script>"}),
    Case("GET", "/nowhere", 404, headers={"X-Request-ID": "req-404"}),
    Case("PUT", "/items", 405, headers={"X-Request-ID": "req-405"}),
    Case("GET", "/items/abc", 422, headers={"X-Request-ID": "req-422"}),
    Case("POST", "/items", 413, b" " * (MIB + 1), {"X-Request-ID": "req-413", "Content-Type": JSON}),
    Case("GET", "/items?page=99999999999999999999", 422, headers={"X-Request-ID": "req-422"}),
]


@dataclass(frozen=True)
class Principal:
    """What one service handed its client at sign-in: the headers to send, and the secrets themselves."""

    headers: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def fill(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda match: self.secrets[match.group(1)], text)


def exchange(
    client: httpx.Client, case: Case, principal: Principal = Principal(), origin: str | None = None
) -> httpx.Response:
    """Send the case (see `request_headers`)."""
    headers = request_headers(case, principal, origin)
    body = case.body
    if body is not None and PLACEHOLDER.search(body.decode(errors="replace")):
        body = principal.fill(body.decode()).encode()
    content: bytes | Iterator[bytes] | None = body
    if case.chunked and body is not None:
        content = iter([body])
    try:
        return client.request(case.method, case.path, content=content, headers=headers)
    except httpx.TransportError as error:
        pytest.fail(f"{case}: {error!r}")


def request_headers(case: Case, principal: Principal, origin: str | None) -> dict[str, str]:
    """The case's headers, the principal's credentials, and an Origin if given: from a page on `origin`, CORS
    headers are compared on every answer (except on a preflight's look-alike, which an Origin would make a
    real preflight: see `CROSS_ORIGIN`)."""
    preflight = "Access-Control-Request-Method" in case.headers
    headers = {"Origin": origin} if origin and not preflight else {}
    headers |= principal.headers if case.signed_in else {}
    return headers | {name: principal.fill(value) for name, value in case.headers.items()}


def comparable_header(name: str, value: str | None) -> str | None:
    if name == "set-cookie" and value is not None:
        return SESSION_COOKIE_VALUE.sub("session=<secret>", value)
    return value


def comparable_body(content: bytes) -> bytes:
    return SECRET.sub(rb'"\1":"<secret>"', TIMESTAMP.sub(timestamp_format, content))


def timestamp_format(match: re.Match[bytes]) -> bytes:
    """A timestamp's notation, not its value: `"2026-11-23T09:00:22.123456Z"` -> `"dddd-dd-ddTdd:dd:dd.ddddddZ"`."""
    return b'"%s":"%s"' % (match.group(1), re.sub(rb"[0-9]", b"d", match.group(2)))


def differences(case: Case, fastapi: httpx.Response, flask: httpx.Response) -> list[str]:
    """How the two answers to `case` differ, and any answer not of the expected status."""
    found = [
        f"{framework} answered {response.status_code}, not {case.status}"
        for framework, response in zip(FRAMEWORKS, (fastapi, flask), strict=True)
        if response.status_code != case.status
    ]
    found += header_differences(fastapi, flask, describes_a_body=case.method == "HEAD")
    found += request_id_problems(case, fastapi) + request_id_problems(case, flask)
    if case.compare_body and comparable_body(fastapi.content) != comparable_body(flask.content):
        found.append(f"body {fastapi.content[:600]!r} != {flask.content[:600]!r}")
    return found


def header_differences(fastapi: httpx.Response, flask: httpx.Response, describes_a_body: bool = False) -> list[str]:
    """The significant headers on which the two answers differ. Content-Type only where the answer has a body
    (or describes one: a HEAD's is its GET's), not on an empty one such as a 204 or a preflight."""
    with_body = describes_a_body or bool(fastapi.content or flask.content)
    found = []
    for name in (name for name in SIGNIFICANT_HEADERS if with_body or name != "content-type"):
        fastapi_value, flask_value = (comparable_header(name, answer.headers.get(name)) for answer in (fastapi, flask))
        if fastapi_value != flask_value:
            found.append(f"{name}: {fastapi_value!r} != {flask_value!r}")
    return found


def head_problems(
    client: httpx.Client, case: Case, head: httpx.Response, principal: Principal, origin: str | None
) -> list[str]:
    """How one service's answer to a HEAD falls short of its GET without the body: the same status and
    significant headers as the GET sent next, and not one byte after the headers (read from a socket of its
    own: an HTTP client never reads a HEAD's body, so it could not tell)."""
    get = exchange(client, dataclasses.replace(case, method="GET"), principal, origin)
    found = [] if head.status_code == get.status_code else [f"HEAD answered {head.status_code}, GET {get.status_code}"]
    for name in SIGNIFICANT_HEADERS:
        head_value, get_value = (comparable_header(name, answer.headers.get(name)) for answer in (head, get))
        if head_value != get_value:
            found.append(f"{name}: HEAD {head_value!r} != GET {get_value!r}")
    if body := bytes_after_head(client.base_url, case.path, request_headers(case, principal, origin)):
        found.append(f"HEAD answered a body: {body[:100]!r}")
    return found


def bytes_after_head(base_url: httpx.URL, path: str, headers: dict[str, str]) -> bytes:
    """What the server sends after the headers of its answer to HEAD `path`, until it closes the connection."""
    lines = [f"HEAD {path} HTTP/1.1", f"Host: {base_url.netloc.decode()}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((base_url.host, base_url.port or 80), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b"".join(iter(lambda: connection.recv(65536), b""))
    head, separator, rest = received.partition(b"\r\n\r\n")
    assert separator, f"no complete answer to HEAD {path}: {head[:200]!r}"
    return rest


def request_id_problems(case: Case, response: httpx.Response) -> list[str]:
    sent = case.headers.get("X-Request-ID")
    answered = response.headers.get("x-request-id", "")
    if sent is not None and SANE_REQUEST_ID.fullmatch(sent):
        return [] if answered == sent else [f"request id {sent!r} came back as {answered!r}"]
    if GENERATED_REQUEST_ID.fullmatch(answered) and answered != sent:
        return []
    return [f"request id {sent!r} was answered with {answered!r}, not a fresh one"]


@dataclass(frozen=True)
class CrossOrigin:
    """A request from a browser page on `origin`, and whether the browser lets the page make it (a preflight)
    or read its answer (a simple request), judged from the answer as the Fetch standard says."""

    method: str
    path: str
    origin: str = ORIGIN
    request_headers: tuple[str, ...] = ()
    preflight: bool = True
    granted: bool = True
    body: bytes | None = None  # of a simple request

    def send(self, client: httpx.Client) -> httpx.Response:
        headers = {"Origin": self.origin}
        if not self.preflight:
            return client.request(self.method, self.path, headers=headers, content=self.body)
        headers["Access-Control-Request-Method"] = self.method
        if self.request_headers:
            headers["Access-Control-Request-Headers"] = ", ".join(self.request_headers)
        return client.options(self.path, headers=headers)

    def grants(self, response: httpx.Response) -> bool:
        if not self.preflight:
            return response.headers.get("access-control-allow-origin") == self.origin
        return preflight_grants(response, self)


def preflight_grants(response: httpx.Response, request: CrossOrigin) -> bool:
    """The CORS check of the Fetch standard, for the methods and headers a page may send."""
    if not response.is_success or response.headers.get("access-control-allow-origin") != request.origin:
        return False
    methods = {item.strip() for item in response.headers.get("access-control-allow-methods", "").split(",")}
    headers = {item.strip().lower() for item in response.headers.get("access-control-allow-headers", "").split(",")}
    return (request.method in {"GET", "HEAD", "POST"} or request.method in methods) and all(
        name.lower() in headers for name in request.request_headers
    )


CROSS_ORIGIN = [
    CrossOrigin("GET", "/items", preflight=False),
    CrossOrigin("GET", "/items", origin="https://elsewhere.example", preflight=False, granted=False),
    CrossOrigin("GET", "/items/999", preflight=False),
    CrossOrigin("DELETE", "/items/abc", preflight=False),
    CrossOrigin("POST", "/items", preflight=False, body=b"x" * (MIB + 1)),  # a page may read the 413 too
    CrossOrigin("POST", "/items", origin="https://elsewhere.example", preflight=False, granted=False),
    CrossOrigin("POST", "/items", request_headers=("Content-Type",)),
    CrossOrigin("PATCH", "/items/1", request_headers=("Content-Type", "X-Request-ID", "Authorization")),
    CrossOrigin("DELETE", "/items/1"),
    CrossOrigin("PUT", "/items/1", granted=False),  # the grant lists the methods; PUT is not one of them
    CrossOrigin("GET", "/items", request_headers=("X-Custom",), granted=False),
    CrossOrigin("POST", "/items", origin="https://elsewhere.example", granted=False),  # routed: a 405
    CrossOrigin("POST", "/items", origin="null", granted=False),
    # Granted before routing: the page then reads the 404 of its request, not a failed preflight.
    CrossOrigin("GET", "/nowhere"),
]


def cors_differences(fastapi: httpx.Response, flask: httpx.Response) -> list[str]:
    """How the two answers to one browser request differ: status, significant headers (CORS's all), body."""
    found = [] if fastapi.status_code == flask.status_code else [f"status {fastapi.status_code} != {flask.status_code}"]
    found += header_differences(fastapi, flask)
    if comparable_body(fastapi.content) != comparable_body(flask.content):
        found.append(f"body {fastapi.content[:300]!r} != {flask.content[:300]!r}")
    return found


def without_credentials(case: Case) -> Case:
    return dataclasses.replace(case, signed_in=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send_form(path: str, status: int, **fields: str) -> Case:
    body = urllib.parse.urlencode(fields).encode()
    return send_raw("POST", path, status, body, FORM)


BOUNDARY = "parity-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(**fields: str) -> bytes:
    parts = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    return f"{''.join(parts)}--{BOUNDARY}--\r\n".encode()


def now() -> int:
    """Seconds since the epoch, read when a case is built: tokens made at import would expire in a long run."""
    return int(time.time())


def forged_access_token(key: str = SECRET_KEY, algorithm: str = "HS256", **claims: object) -> str:
    """An access token made outside the service: with its own SECRET_KEY, as valid as a real one."""
    standard = {"sub": "1", "iat": now(), "exp": now() + 600, "jti": "forged"}
    payload = {name: value for name, value in (standard | claims).items() if value is not None}
    return jwt.encode(payload, key if algorithm != "none" else None, algorithm=algorithm)


def hs256_token(secret: bytes, claims: dict[str, object]) -> str:
    """A token signed with HMAC, whatever the secret (PyJWT refuses a PEM key as an HMAC secret)."""
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signature = hmac.new(secret, header + b"." + payload, hashlib.sha256).digest()
    return b".".join((header, payload, jwt.utils.base64url_encode(signature))).decode()


# Every auth answer but none: what a request without credentials, or with the signed-in ones, gets.
PROTECTED_CASES = [
    without_credentials(Case("GET", "/items", 401)),
    without_credentials(Case("GET", "/items/1", 401)),
    without_credentials(Case("GET", "/items/abc", 401)),  # authentication comes before validation
    without_credentials(send_json("POST", "/items", 401, {"name": ""})),
    without_credentials(Case("DELETE", "/items/1", 401)),
    without_credentials(Case("GET", "/users/me", 401)),
    Case("GET", "/users/me", 200),
    Case("POST", "/users/me", 405),
]
REGISTRATION_CASES = [
    send_json("POST", "/auth/register", 409, {"email": "ALICE@example.com", "password": PASSWORD}),
    send_json("POST", "/auth/register", 422, {"email": "not-an-email", "password": PASSWORD}),
    send_json("POST", "/auth/register", 422, {"email": "bob@example.com", "password": "short"}),
    send_json("POST", "/auth/register", 422, {"email": "bob@example.com", "password": "x" * 129}),
    send_json("POST", "/auth/register", 422, {"email": "bob@example.com", "password": PASSWORD, "is_active": False}),
    send_json("POST", "/auth/register", 422, {}),
    send_raw("POST", "/auth/register", 422, b'{"email": ', JSON),
    send_json("POST", "/auth/register", 201, {"email": "Bob@Example.com", "password": PASSWORD, "full_name": "Bob"}),
]


def jwt_cases() -> list[Case]:
    return [
        send_form("/auth/token", 200, username="alice@example.com", password=PASSWORD),
        send_form("/auth/token", 200, username="ALICE@example.com", password=PASSWORD),
        send_form(
            "/auth/token", 200, grant_type="password", username="bob@example.com", password=PASSWORD, client_id="x"
        ),
        send_form("/auth/token", 401, username="alice@example.com", password="wrong password"),
        send_form("/auth/token", 401, username="nobody@example.com", password=PASSWORD),
        send_form("/auth/token", 422, username="alice@example.com"),
        send_form("/auth/token", 422, grant_type="client_credentials", username="alice@example.com", password=PASSWORD),
        send_json("POST", "/auth/token", 422, {"username": "alice@example.com", "password": PASSWORD}),
        # A well-formed multipart form is read as the url-encoded one (a malformed one, each parser in its way).
        send_raw("POST", "/auth/token", 200, multipart(username="alice@example.com", password=PASSWORD), MULTIPART),
        # Login throttling: the sixth failure in a row for one account is refused before the password is checked.
        *[send_form("/auth/token", 401, username="mallory@example.com", password="guess")] * 5,
        send_form("/auth/token", 429, username="mallory@example.com", password="guess"),
        Case("GET", "/users/me", 200, headers={"Authorization": "bearer <access_token>"}),
        Case("GET", "/users/me", 200, headers=bearer(forged_access_token())),
        Case("GET", "/users/me", 401, headers=bearer(forged_access_token(exp=now() - 60))),
        Case("GET", "/users/me", 401, headers=bearer(forged_access_token(key="k" * 40))),
        Case("GET", "/users/me", 401, headers=bearer(forged_access_token(algorithm="none"))),
        Case("GET", "/users/me", 401, headers=bearer(forged_access_token(sub="999"))),
        Case("GET", "/users/me", 401, headers=bearer(forged_access_token(jti=None))),
        Case("GET", "/users/me", 401, headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}),
        Case("GET", "/users/me", 401, headers={"Authorization": "Bearer"}),
        Case("GET", "/users/me", 401, headers={"Authorization": "Bearer <access_token> extra"}),
        Case("GET", "/users/me", 401, headers={"Authorization": "Bearer not.a.jwt"}),
        send_json("POST", "/auth/refresh", 401, {"refresh_token": "not-a-refresh-token"}),
        send_json("POST", "/auth/refresh", 422, {}),
        send_json("POST", "/auth/refresh", 200, {"refresh_token": "<refresh_token>"}),
        send_json("POST", "/auth/refresh", 401, {"refresh_token": "<refresh_token>"}),  # used: revokes its family
    ]


SESSION_CASES = [
    send_json("POST", "/auth/login", 200, {"email": "ALICE@example.com", "password": PASSWORD}),
    send_json("POST", "/auth/login", 401, {"email": "alice@example.com", "password": "wrong password"}),
    send_json("POST", "/auth/login", 401, {"email": "nobody@example.com", "password": PASSWORD}),
    send_json("POST", "/auth/login", 422, {"email": "alice@example.com"}),
    *[send_json("POST", "/auth/login", 401, {"email": "mallory@example.com", "password": "guess"})] * 5,
    send_json("POST", "/auth/login", 429, {"email": "mallory@example.com", "password": "guess"}),
    Case("GET", "/items", 200, headers={"Cookie": "session=<session>"}, signed_in=False),  # reading needs no CSRF
    Case("GET", "/items", 401, headers={"Cookie": "session=forged"}, signed_in=False),
    Case("GET", "/items", 401, headers={"X-CSRF-Token": "<csrf_token>"}, signed_in=False),
    without_credentials(
        send_raw("POST", "/items", 403, json.dumps(LAMP).encode(), JSON) | {"Cookie": "session=<session>"}
    ),
    send_json("POST", "/items", 403, LAMP) | {"X-CSRF-Token": "wrong"},
    send_raw("POST", "/items", 403, b"{}", JSON) | {"X-CSRF-Token": "wrong"},  # before validation
    Case("DELETE", "/items/1", 403, headers={"X-CSRF-Token": ""}),
    Case("POST", "/auth/logout", 403, headers={"Cookie": "session=<session>"}, signed_in=False),
    Case("POST", "/auth/logout", 204),
    Case("GET", "/users/me", 401),  # the session ended
    Case("POST", "/auth/logout", 401),
]
API_KEY_CASES = [
    Case("GET", "/users/me", 401, headers={"X-API-Key": ""}),
    Case("GET", "/users/me", 401, headers={"X-API-Key": "wrong"}),
    Case("GET", "/users/me", 401, headers={"X-API-Key": "<api_key>x"}),
    Case("GET", "/users/me", 401, headers={"Authorization": "Bearer <api_key>"}, signed_in=False),
]


def oidc_cases(provider: Any) -> list[Case]:
    unpublished = identity_provider_module().SigningKey("key-unpublished")
    claims = {"iss": provider.issuer, "aud": identity_provider_module().AUDIENCE, "sub": "alice", "exp": now() + 600}
    return [
        Case("GET", "/users/me", 200, headers=bearer(provider.token("alice"))),
        Case("GET", "/users/me", 200, headers=bearer(provider.token("carol", email=None, name=None))),
        Case("GET", "/users/me", 401, headers=bearer(provider.token("alice", aud="another-api"))),
        Case("GET", "/users/me", 401, headers=bearer(provider.token("alice", iss="https://elsewhere.example"))),
        Case("GET", "/users/me", 401, headers=bearer(provider.token("alice", exp=now() - 60))),
        Case("GET", "/users/me", 401, headers=bearer(provider.token("alice", key=unpublished))),
        Case("GET", "/users/me", 401, headers=bearer(hs256_token(provider.key.public_pem(), claims))),
        Case("GET", "/users/me", 401, headers=bearer(forged_access_token(algorithm="none", **claims))),
        Case("GET", "/users/me", 401, headers={"Authorization": "Bearer not.a.jwt"}),
    ]


def auth_cases(auth: str, provider: Any) -> list[Case]:
    """The cases of one auth answer, sent after `CASES` (they log out and use up tokens)."""
    own: dict[str, Callable[[], list[Case]]] = {
        "none": list,
        "jwt": lambda: REGISTRATION_CASES + jwt_cases(),
        "session": lambda: REGISTRATION_CASES + SESSION_CASES,
        "api_key": lambda: API_KEY_CASES,
        "oidc": lambda: oidc_cases(provider),
    }
    return [] if auth == "none" else PROTECTED_CASES + own[auth]()


@dataclass(frozen=True)
class Services:
    """Both services of one auth answer, and the principal each one's client signed in as."""

    auth: str
    cors: bool
    base_urls: dict[str, str]
    principals: dict[str, Principal]
    identity_provider: Any


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[Any]:
    with identity_provider_module().serve_identity_provider() as provider:
        yield provider


@pytest.fixture(scope="module", params=AUTHS)
def projects(
    request: pytest.FixtureRequest, template_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Both projects, rendered from the same answers and installed."""
    environment = {**os.environ, "UV_PYTHON": python_for(ANSWERS["python_version"])}
    installed = {}
    for framework in FRAMEWORKS:
        destination = tmp_path_factory.mktemp(f"{framework}-{request.param}") / "project"
        answers = {**ANSWERS, **PAIRINGS[request.param], "auth": request.param, "framework": framework}
        if framework == "flask":
            answers["db_style"] = "sync"
        project = render(template_source, destination, answers)
        synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env=environment)
        assert synced.returncode == 0, synced.stderr
        installed[framework] = project
    return installed


@pytest.fixture(scope="module", params=["no-cors", "cors"])
def servers(
    request: pytest.FixtureRequest,
    projects: dict[str, Path],
    identity_provider: Any,
    database_for: Callable[[Answers], str | None],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Services]:
    """Both services, started with their production command on fresh databases, each with a signed-in client."""
    auth = answers_of(projects["fastapi"])["auth"]
    environment = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "WARNING"}
    if request.param == "cors":
        environment["CORS_ORIGINS"] = json.dumps([ORIGIN])
    if auth == "oidc":
        environment |= {"OIDC_ISSUER": identity_provider.issuer, "OIDC_AUDIENCE": identity_provider_module().AUDIENCE}
    data = tmp_path_factory.mktemp("databases")
    command = [tool("uv"), "run", "--frozen", SLUG, "serve", "--workers", "2"]
    with ExitStack() as stack:
        base_urls, principals = {}, {}
        for framework in FRAMEWORKS:
            answers = answers_of(projects[framework])
            database = database_for(answers) or f"sqlite:///{data}/{framework}.db"
            env = {**environment, "DATABASE_URL": database}
            if answers["database"] == "postgresql":  # serve migrates SQLite itself; PostgreSQL is migrated first
                must_run(projects[framework], [SLUG, "db", "upgrade"], env)
            base_urls[framework] = stack.enter_context(serving(projects[framework], command, env))
            with httpx.Client(base_url=base_urls[framework], timeout=30) as signing_in:
                secrets = sign_in(
                    signing_in,
                    auth,
                    issue_api_key=lambda name, project=projects[framework], env=env: issue_api_key(project, name, env),
                    identity_provider=identity_provider,
                )
                headers = {name: signing_in.headers[name] for name in CREDENTIAL_HEADERS if name in signing_in.headers}
            principals[framework] = Principal(headers, secrets)
        yield Services(auth, request.param == "cors", base_urls, principals, identity_provider)


CREDENTIAL_HEADERS = ("Authorization", "Cookie", "X-CSRF-Token", "X-API-Key")


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def must_run(project: Path, command: list[str], env: dict[str, str]) -> str:
    """Run one of the project's commands as its README says (`uv run ...`); its output."""
    result = run([tool("uv"), "run", "--frozen", *command], cwd=project, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout


def client(base_url: str) -> httpx.Client:
    """A new connection for every request. After answering 413 to a body it did not read, gunicorn drains
    at most 64 KiB of it and then closes the connection, although its answer said keep-alive; a client
    that reuses the connection fails. uvicorn drains the whole body."""
    return httpx.Client(base_url=base_url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def test_same_answer_to_every_request(servers: Services) -> None:
    found: dict[str, list[str]] = {}
    origin = ORIGIN if servers.cors else None
    with ExitStack() as stack:
        clients = {name: stack.enter_context(client(servers.base_urls[name])) for name in FRAMEWORKS}
        for case in CASES + auth_cases(servers.auth, servers.identity_provider):
            answers = {name: exchange(clients[name], case, servers.principals[name], origin) for name in FRAMEWORKS}
            problems = differences(case, *answers.values())
            if case.method == "HEAD":
                problems += [
                    f"{name}: {problem}"
                    for name in FRAMEWORKS
                    for problem in head_problems(clients[name], case, answers[name], servers.principals[name], origin)
                ]
            if problems:
                found[str(case)] = problems

    assert not found, "\n".join(f"{case}\n    " + "\n    ".join(problems) for case, problems in found.items())


def test_same_openapi_document(servers: Services) -> None:
    """Byte for byte: the same operation ids, words, key order and formatting. And a valid OpenAPI 3.1 document."""
    fastapi, flask = (httpx.get(f"{servers.base_urls[name]}/openapi.json", timeout=30).content for name in FRAMEWORKS)

    assert flask == fastapi
    validate(json.loads(fastapi))


def test_same_cross_origin_answers(servers: Services) -> None:
    """Both answer each browser request with the same CORS headers; with CORS_ORIGINS set, the browser grants
    what `CROSS_ORIGIN` says, and without it, nothing."""
    with client(servers.base_urls["fastapi"]) as fastapi, client(servers.base_urls["flask"]) as flask:
        answers = {request: (request.send(fastapi), request.send(flask)) for request in CROSS_ORIGIN}
    found = {str(request): problems for request, pair in answers.items() if (problems := cors_differences(*pair))}
    decisions = {request: tuple(request.grants(answer) for answer in pair) for request, pair in answers.items()}

    assert not found, "\n".join(f"{request}\n    " + "\n    ".join(problems) for request, problems in found.items())
    assert decisions == {request: (request.granted and servers.cors,) * 2 for request in CROSS_ORIGIN}
