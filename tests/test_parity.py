"""Parity: the Flask and the FastAPI service generated from the same answers serve one HTTP contract.

Both projects are installed with uv and started with their production command (gunicorn for Flask,
uvicorn for FastAPI) on free loopback ports, each on a fresh SQLite database, once without and once with
CORS. One list of requests goes to both, in order, so that ids match; every pair of answers must agree on
the status, the headers that matter and the body, byte for byte once timestamps are masked. Each case also
names the status it expects, so that two equally wrong answers do not pass. The OpenAPI documents must be equal
after `normalise_openapi`, and CORS preflights must grant and refuse the same requests.
"""

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import SLUG, python_for, render, run, tool
from .servers import serving

pytestmark = pytest.mark.deep

ANSWERS = {"db_style": "sync", "database": "sqlite", "auth": "none", "python_version": "3.13"}
FRAMEWORKS = ("fastapi", "flask")
ORIGIN = "https://app.example"

# Compared on every response; a header absent from both answers is equal.
SIGNIFICANT_HEADERS = (
    "content-type",
    "location",
    "allow",
    "retry-after",
    "x-content-type-options",
    "www-authenticate",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "access-control-allow-credentials",
)
TIMESTAMP = re.compile(rb'"(created_at|updated_at)":"[^"]*"')
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

CASES = [
    # Meta
    Case("GET", "/health/live", 200),
    Case("GET", "/health/ready", 200),
    Case("GET", "/health/live?unknown=1", 200),
    Case("GET", "/docs", 200),
    Case("GET", "/redoc", 200),
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
    Case("HEAD", "/health/live", 405),
    Case("OPTIONS", "/health/live", 405),
    Case("PUT", "/items", 405),
    Case("DELETE", "/items", 405),
    Case("HEAD", "/items", 405),
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
    # Invalid bodies
    send_json("POST", "/items", 422, {"name": "", "price": -1, "colour": "red"}),
    send_json("POST", "/items", 422, {}),
    send_json("POST", "/items", 422, {"name": "x" * 101, "description": "d" * 1001, "price": "s3cret"}),
    send_json("POST", "/items", 422, {"name": None, "price": None}),
    send_json("POST", "/items", 422, {"name": 1, "price": True}),
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


def exchange(client: httpx.Client, case: Case) -> httpx.Response:
    content: bytes | Iterator[bytes] | None = case.body
    if case.chunked and case.body is not None:
        content = iter([case.body])
    try:
        return client.request(case.method, case.path, content=content, headers=case.headers)
    except httpx.TransportError as error:
        pytest.fail(f"{case}: {error!r}")


def differences(case: Case, fastapi: httpx.Response, flask: httpx.Response) -> list[str]:
    """How the two answers to `case` differ, and any answer not of the expected status."""
    found = [
        f"{framework} answered {response.status_code}, not {case.status}"
        for framework, response in zip(FRAMEWORKS, (fastapi, flask), strict=True)
        if response.status_code != case.status
    ]
    for name in SIGNIFICANT_HEADERS:
        if fastapi.headers.get(name) != flask.headers.get(name):
            found.append(f"{name}: {fastapi.headers.get(name)!r} != {flask.headers.get(name)!r}")
    found += request_id_problems(case, fastapi) + request_id_problems(case, flask)
    if case.compare_body and TIMESTAMP.sub(b"<time>", fastapi.content) != TIMESTAMP.sub(b"<time>", flask.content):
        found.append(f"body {fastapi.content[:600]!r} != {flask.content[:600]!r}")
    return found


def request_id_problems(case: Case, response: httpx.Response) -> list[str]:
    sent = case.headers.get("X-Request-ID")
    answered = response.headers.get("x-request-id", "")
    if sent is not None and SANE_REQUEST_ID.fullmatch(sent):
        return [] if answered == sent else [f"request id {sent!r} came back as {answered!r}"]
    if GENERATED_REQUEST_ID.fullmatch(answered) and answered != sent:
        return []
    return [f"request id {sent!r} was answered with {answered!r}, not a fresh one"]


def normalise_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """The parts of an OpenAPI document that both frameworks must write alike.

    Dropped, because each framework derives them its own way from the view functions:
    - each operation's `summary`, `description` and `operationId` (FastAPI: from the function's name and
      docstring; flask-openapi3: from the docstring's lines and the blueprint's name);
    - each response's `description` (FastAPI: "Successful Response"; flask-openapi3: the reason phrase);
    - the top-level `tags` list (flask-openapi3 lists every tag in use, FastAPI only the tags it is given;
      each operation's own `tags` are kept and compared).
    Everything else is compared: `info`, paths, methods, parameters, request bodies, response codes,
    content types, schemas and components. Numbers compare by value: flask-openapi3 writes
    `"minimum": 1.0` where FastAPI writes `1`, the same number in JSON Schema.
    """
    operation_names = {"summary", "description", "operationId"}
    normalised = {key: value for key, value in document.items() if key != "tags"}
    normalised["paths"] = {
        path: {
            method: {
                **{key: value for key, value in operation.items() if key not in operation_names},
                "responses": {
                    status: {key: value for key, value in response.items() if key != "description"}
                    for status, response in operation["responses"].items()
                },
            }
            for method, operation in operations.items()
        }
        for path, operations in document["paths"].items()
    }
    return normalised


@dataclass(frozen=True)
class CrossOrigin:
    """A request from a browser page on `origin`: what the browser concludes from each service's answer.

    The two services word their CORS answers differently (Starlette's CORSMiddleware lists every allowed
    header and refuses a preflight with a 400, flask-cors echoes the allowed requested headers and answers
    200 without the grant; Starlette always adds `Vary: Origin`), so what is compared is the decision a
    browser takes: may the page send the request (preflight), may it read the answer (simple request).
    """

    method: str
    path: str
    origin: str = ORIGIN
    request_headers: tuple[str, ...] = ()
    preflight: bool = True
    granted: tuple[bool, bool] = (True, True)  # (by FastAPI, by Flask)
    body: bytes | None = None  # of a simple request

    def send(self, client: httpx.Client) -> bool:
        headers = {"Origin": self.origin}
        if not self.preflight:
            response = client.request(self.method, self.path, headers=headers, content=self.body)
            return response.headers.get("access-control-allow-origin") == self.origin
        headers["Access-Control-Request-Method"] = self.method
        if self.request_headers:
            headers["Access-Control-Request-Headers"] = ", ".join(self.request_headers)
        return preflight_grants(client.options(self.path, headers=headers), self)


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
    CrossOrigin("GET", "/items", origin="https://elsewhere.example", preflight=False, granted=(False, False)),
    CrossOrigin("GET", "/items/999", preflight=False),
    CrossOrigin("DELETE", "/items/abc", preflight=False),
    CrossOrigin("POST", "/items", preflight=False, body=b"x" * (MIB + 1)),  # a page may read the 413 too
    CrossOrigin("POST", "/items", request_headers=("Content-Type",)),
    CrossOrigin("PATCH", "/items/1", request_headers=("Content-Type", "X-Request-ID", "Authorization")),
    CrossOrigin("DELETE", "/items/1"),
    CrossOrigin("PUT", "/items/1", granted=(False, False)),
    CrossOrigin("GET", "/items", request_headers=("X-Custom",), granted=(False, False)),
    CrossOrigin("POST", "/items", origin="https://elsewhere.example", granted=(False, False)),
    # Starlette answers preflights before routing; Flask routes them, and an unknown path is a 404.
    CrossOrigin("GET", "/nowhere", granted=(True, False)),
]


@pytest.fixture(scope="module")
def projects(template_source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both projects, rendered from the same answers and installed."""
    environment = {**os.environ, "UV_PYTHON": python_for(ANSWERS["python_version"])}
    installed = {}
    for framework in FRAMEWORKS:
        destination = tmp_path_factory.mktemp(framework) / "project"
        project = render(template_source, destination, {**ANSWERS, "framework": framework})
        synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env=environment)
        assert synced.returncode == 0, synced.stderr
        installed[framework] = project
    return installed


@pytest.fixture(scope="module", params=["no-cors", "cors"])
def servers(
    request: pytest.FixtureRequest, projects: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Both services, started with their production command on fresh databases: framework -> base URL."""
    environment = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "LOG_LEVEL": "WARNING"}
    if request.param == "cors":
        environment["CORS_ORIGINS"] = json.dumps([ORIGIN])
    data = tmp_path_factory.mktemp("databases")
    command = [tool("uv"), "run", "--frozen", SLUG, "serve", "--workers", "2"]
    with (
        serving(
            projects["fastapi"], command, {**environment, "DATABASE_URL": f"sqlite:///{data}/fastapi.db"}
        ) as fastapi,
        serving(projects["flask"], command, {**environment, "DATABASE_URL": f"sqlite:///{data}/flask.db"}) as flask,
    ):
        yield {"fastapi": fastapi, "flask": flask, "cors": request.param}


def client(base_url: str) -> httpx.Client:
    """A new connection for every request. After answering 413 to a body it did not read, gunicorn drains
    at most 64 KiB of it and then closes the connection, although its answer said keep-alive; a client
    that reuses the connection fails. uvicorn drains the whole body."""
    return httpx.Client(base_url=base_url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def test_same_answer_to_every_request(servers: dict[str, str]) -> None:
    found: dict[str, list[str]] = {}
    with client(servers["fastapi"]) as fastapi, client(servers["flask"]) as flask:
        for case in CASES:
            if problems := differences(case, exchange(fastapi, case), exchange(flask, case)):
                found[str(case)] = problems

    assert not found, "\n".join(f"{case}\n    " + "\n    ".join(problems) for case, problems in found.items())


def test_same_openapi_document(servers: dict[str, str]) -> None:
    fastapi, flask = (httpx.get(f"{servers[name]}/openapi.json", timeout=30).json() for name in FRAMEWORKS)

    assert normalise_openapi(flask) == normalise_openapi(fastapi)


def test_same_cross_origin_decisions(servers: dict[str, str]) -> None:
    """With CORS_ORIGINS set, both grant what `CROSS_ORIGIN` says; without it, neither grants anything."""
    with client(servers["fastapi"]) as fastapi, client(servers["flask"]) as flask:
        decisions = {request: (request.send(fastapi), request.send(flask)) for request in CROSS_ORIGIN}

    cors_on = servers["cors"] == "cors"
    assert decisions == {request: request.granted if cors_on else (False, False) for request in CROSS_ORIGIN}
