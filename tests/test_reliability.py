"""Served projects under abuse and load: each variant started with its production command (2 workers) on
PostgreSQL, as in production, and driven by clients that a unit test cannot stand in for.

- A raw HTTP/1.1 client reuses one connection for oversized bodies: every one must be answered with the
  413 problem, and a connection the server ends must say so (`Connection: close`).
- wrk keeps 16, then 64 connections busy on GET /items, with a small connection pool (3 per worker, each
  waited for at most DB_POOL_TIMEOUT's 10 s: a request starved of one fails within the runs): every
  request is answered, without an error or a 5xx. The figures (throughput, answers slower than wrk's 2 s, memory per
  worker) are printed, never asserted: they are measurements of a shared machine.
"""

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.load import Request, Server, run_load

from .combinations import Answers, label
from .conftest import SLUG, missing, python_for, render, run, tool
from .postgres import PostgresServer
from .servers import serving

# One worker runs the whole module: each variant is installed and started once for all its tests.
pytestmark = [pytest.mark.deep, pytest.mark.xdist_group("reliability")]

VARIANTS: list[Answers] = [
    {"framework": "flask", "db_style": "sync"},
    {"framework": "fastapi", "db_style": "sync"},
    {"framework": "fastapi", "db_style": "async"},
]
UV_RUN = [tool("uv"), "run", "--frozen"]
MIB = 1024 * 1024
OVERSIZED_BODIES = 40
TOO_LARGE = {
    "type": "about:blank",
    "title": "Content Too Large",
    "status": 413,
    "detail": "The request body is larger than the service accepts.",
}
ITEMS = 20
LOAD_SECONDS = 10
CONCURRENCY = (16, 64)
SMALL_POOL = {"DB_POOL_SIZE": "2", "DB_MAX_OVERFLOW": "1"}


@pytest.fixture(scope="module", params=VARIANTS, ids=label)
def service(
    request: pytest.FixtureRequest,
    template_source: Path,
    tmp_path_factory: pytest.TempPathFactory,
    postgres: PostgresServer,
) -> Iterator[str]:
    answers = {**request.param, "database": "postgresql", "auth": "none", "python_version": "3.13"}
    project = render(template_source, tmp_path_factory.mktemp(label(request.param)) / "project", answers)
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env={**os.environ, "UV_PYTHON": python_for("3.13")})
    assert synced.returncode == 0, synced.stderr
    production = {
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": postgres.create_database(answers["db_style"]),
        **SMALL_POOL,
    }
    migrated = run([*UV_RUN, SLUG, "db", "upgrade"], cwd=project, env={**os.environ, **production})
    assert migrated.returncode == 0, migrated.stderr
    with serving(project, [*UV_RUN, SLUG, "serve", "--workers", "2"], production) as base_url:
        yield base_url


def test_oversized_bodies_on_a_kept_alive_connection_are_all_answered(service: str) -> None:
    """The client sends each body whole before it reads the answer, as most clients do."""
    port = int(service.rsplit(":", 1)[1])
    body = b"{" + b" " * (MIB + 1024 - 2) + b"}"
    request = (
        b"POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    outcomes = []
    connection: socket.socket | None = None
    for _ in range(OVERSIZED_BODIES):
        if connection is None:
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            connection.sendall(request)
            status, headers, answer = read_response(connection)
        except OSError as error:  # includes "disconnected without an answer", below
            outcomes.append(f"{type(error).__name__}: {error}")
            connection.close()
            connection = None
            continue
        outcomes.append(f"{status} {json.loads(answer) == TOO_LARGE}")
        if headers.get("connection", "").lower() == "close":
            connection.close()
            connection = None
    if connection is not None:
        connection.close()

    assert outcomes == ["413 True"] * OVERSIZED_BODIES


def read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer with a Content-Length: its status, headers (lowercase names) and body."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server disconnected without an answer (got {received[:60]!r})")
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("the server disconnected in the middle of an answer")
        body += chunk
    return int(status_line.split()[1]), headers, body[:length]


def test_sixty_four_connections_get_answers_without_errors(service: str) -> None:
    if shutil.which("wrk") is None:
        missing("wrk", "`apt-get install wrk` (Debian)")
    for number in range(ITEMS):
        created = httpx.post(f"{service}/items", json={"name": f"Item {number}", "price": number}, timeout=10)
        assert created.status_code == 201, created.text
    server = Server.at(service)
    page = Request("GET", "/items", {})
    loads = {c: run_load(server, page, connections=c, seconds=LOAD_SECONDS) for c in CONCURRENCY}
    for connections, load in loads.items():
        print(
            f"GET /items at c{connections}: {load.requests_per_second:.0f} req/s, p99 {load.p99_ms:.0f} ms, "
            f"{load.errors} errors, {load.timeouts} timeouts, peak worker RSS {load.peak_rss_mib:.0f} MiB "
            f"(load average {load.load_average:.1f})"
        )
    assert {c: load.errors for c, load in loads.items()} == dict.fromkeys(CONCURRENCY, 0)
    assert all(load.requests_per_second > 0 for load in loads.values()), "a run got no answer at all"
