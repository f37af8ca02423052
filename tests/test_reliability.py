"""Served projects under abuse, load and database faults: each variant started with its production command
(2 workers) on PostgreSQL, as in production, and driven by clients that a unit test cannot stand in for.

- A raw HTTP/1.1 client reuses one connection for oversized bodies: every one must be answered with the
  413 problem, and a connection the server ends must say so (`Connection: close`).
- wrk sends 2,000 requests over 16 connections, then 10,000 over 64, to GET /items, with a small connection
  pool (3 per worker, each waited for at most DB_POOL_TIMEOUT's 10 s: a request starved of one fails within the
  runs): every request is answered, without an error, a 5xx or a hang (an answer slower than 15 s). The figures
  (throughput, tail latency, memory per worker) are printed, never asserted: they are measurements of a shared
  machine.
- PostgreSQL, a server of the test's own, is restarted under the idle service: no request notices. Then it
  stops (cleanly, or at once as in a crash) under the service, with requests waiting in it: those, readiness
  and every item route answer the 503 problem with Retry-After, each within the client's 10 s; the workers stay
  up and log JSON only. Once the server is back, the service is ready again and serves the stored item and new
  writes, without a restart of its own.
- The network drops every packet to PostgreSQL (a partition: nothing refuses or closes a connection), with
  DB_STATEMENT_TIMEOUT and DB_CONNECT_TIMEOUT at 2 s: readiness and item routes answer the 503 problem within
  the client's 10 s, where a request on a pooled connection used to wait until TCP gave up (about 15
  minutes). Once the network is back, so is the service.
"""

import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from benchmarks.load import Request, Server, run_load

from .combinations import Answers, label
from .conftest import SLUG, missing, python_for, render, run, tool
from .postgres import LocalPostgresServer, PostgresServer, local_postgres_server, postgres_installed, psql, table_locked
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
LOAD_REQUESTS = {16: 2_000, 64: 10_000}  # 64 connections are the test; 16 warm the service up
LOAD_BOUND_SECONDS = 300  # wrk's duration: the runs end when the requests are answered, long before
HANG_SECONDS = 15  # longer than DB_POOL_TIMEOUT: a request starved of a connection is an error, not a hang
SMALL_POOL = {"DB_POOL_SIZE": "2", "DB_MAX_OVERFLOW": "1"}
CLIENT_TIMEOUT = 10  # an answer slower than this is a hang
RETRY_AFTER = "5"
DATABASE_UNAVAILABLE = {
    "type": "about:blank",
    "title": "Service Unavailable",
    "status": 503,
    "detail": "The service cannot reach its database right now; try again shortly.",
}
# A partition's requests fail within 2 s + 1 s (the driver's grace past the statement timeout) + 2 s.
SHORT_DATABASE_TIMEOUTS = {"DB_STATEMENT_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2"}
WAITING_FOR_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND wait_event_type = 'Lock'"
)


@dataclass(frozen=True)
class Project:
    path: Path
    db_style: str


@pytest.fixture(scope="module", params=VARIANTS, ids=label)
def project(request: pytest.FixtureRequest, template_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    answers = {**request.param, "database": "postgresql", "auth": "none", "python_version": "3.13"}
    path = render(template_source, tmp_path_factory.mktemp(label(request.param)) / "project", answers)
    synced = run([tool("uv"), "sync", "--quiet"], cwd=path, env={**os.environ, "UV_PYTHON": python_for("3.13")})
    assert synced.returncode == 0, synced.stderr
    return Project(path, answers["db_style"])


@contextmanager
def started(
    project: Project, database_url: str, log_name: str = "server.log", settings: dict[str, str] | None = None
) -> Iterator[str]:
    """The project, its database migrated, served by its production command with 2 workers: its base URL."""
    production = {
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        **SMALL_POOL,
        **(settings or {}),
    }
    migrated = run([*UV_RUN, SLUG, "db", "upgrade"], cwd=project.path, env={**os.environ, **production})
    assert migrated.returncode == 0, migrated.stderr
    command = [*UV_RUN, SLUG, "serve", "--workers", "2"]
    with serving(project.path, command, production, log_name=log_name) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def service(project: Project, postgres: PostgresServer) -> Iterator[str]:
    with started(project, postgres.create_database(project.db_style)) as base_url:
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


def test_ten_thousand_requests_over_sixty_four_connections_are_all_answered(service: str) -> None:
    if shutil.which("wrk") is None:
        missing("wrk", "`apt-get install wrk` (Debian)")
    for number in range(ITEMS):
        created = httpx.post(f"{service}/items", json={"name": f"Item {number}", "price": number}, timeout=10)
        assert created.status_code == 201, created.text
    server = Server.at(service)
    page = Request("GET", "/items", {})
    loads = {
        connections: run_load(
            server,
            page,
            connections=connections,
            seconds=LOAD_BOUND_SECONDS,
            requests=requests,
            timeout_seconds=HANG_SECONDS,
        )
        for connections, requests in LOAD_REQUESTS.items()
    }
    for connections, load in loads.items():
        print(
            f"GET /items at c{connections}: {load.requests} answers, {load.requests_per_second:.0f} req/s, "
            f"p50 {load.p50_ms:.0f} ms, p99 {load.p99_ms:.0f} ms, {load.errors} errors, {load.timeouts} timeouts, "
            f"peak worker RSS {load.peak_rss_mib:.0f} MiB (load average {load.load_average:.1f})"
        )
    outcomes = {c: (load.requests >= LOAD_REQUESTS[c], load.errors, load.timeouts) for c, load in loads.items()}
    assert outcomes == dict.fromkeys(LOAD_REQUESTS, (True, 0, 0)), "(all answered, errors, hangs) per connection count"


@dataclass(frozen=True)
class ServiceOnItsOwnDatabase:
    base_url: str
    database: LocalPostgresServer
    database_url: str
    log: Path


@pytest.fixture(scope="module")
def service_on_its_own_database(project: Project) -> Iterator[ServiceOnItsOwnDatabase]:
    """The service on a PostgreSQL server of its own, which the tests stop and start: never the shared one."""
    if not postgres_installed():
        missing("PostgreSQL's server", "`apt-get install postgresql` (Debian): the test stops a server of its own")
    with local_postgres_server() as database:
        database_url = database.create_database(project.db_style)
        log_name = "server-on-its-own-database.log"
        with started(project, database_url, log_name) as base_url:
            yield ServiceOnItsOwnDatabase(base_url, database, database_url, project.path / log_name)


def test_a_database_restart_under_an_idle_service_costs_no_request(
    service_on_its_own_database: ServiceOnItsOwnDatabase,
) -> None:
    """Each worker's pooled connections die with the server; each is tested before use (pool_pre_ping)."""
    service = service_on_its_own_database
    item = create_item(service.base_url, "Kept")
    reads = [f"{service.base_url}/items/{item['id']}"] * 40
    with ThreadPoolExecutor(8) as clients:
        assert set(clients.map(status_of, reads)) == {200}, "served before the restart, from pools of 3 connections"
        service.database.stop("fast")
        service.database.start()
        statuses = list(clients.map(status_of, reads))

    assert statuses == [200] * len(reads)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_stopped_database_is_a_503_until_it_is_back(
    service_on_its_own_database: ServiceOnItsOwnDatabase, mode: str
) -> None:
    service = service_on_its_own_database
    base_url = service.base_url
    item = create_item(base_url, "Kept")
    workers = Server.at(base_url).workers
    log_lines = len(service.log.read_text().splitlines())

    with ThreadPoolExecutor(2) as clients, table_locked(service.database_url, "items"):
        waiting = [clients.submit(answer_to, "GET", f"{base_url}{path}") for path in ("/items", f"/items/{item['id']}")]
        within_retries(
            lambda: psql(service.database_url, WAITING_FOR_A_LOCK) == "2", "both requests wait in the database"
        )
        service.database.stop(mode)
        answers = {
            "waiting in the database": [future.result() for future in waiting],
            "readiness": [answer_to("GET", f"{base_url}/health/ready")],
            "item routes": [
                answer_to("GET", f"{base_url}/items"),
                answer_to("GET", f"{base_url}/items/{item['id']}"),
                answer_to("POST", f"{base_url}/items", {"name": "Lost", "price": 1}),
                answer_to("PATCH", f"{base_url}/items/{item['id']}", {"name": "Renamed"}),
                answer_to("DELETE", f"{base_url}/items/{item['id']}"),
            ],
        }
        alive = Server.at(base_url).workers
        service.database.start()
    within_retries(lambda: status_of(f"{base_url}/health/ready") == 200, "the service is ready again")
    after = answer_to("GET", f"{base_url}/items/{item['id']}")
    written = answer_to("POST", f"{base_url}/items", {"name": "Written", "price": 2})

    assert answers == {kind: [UNAVAILABLE] * len(each) for kind, each in answers.items()}
    assert alive == workers, "every worker lived through the outage"
    assert after == Answer(200, "application/json", None, item), "the stored item is served, unchanged"
    assert written.status == 201, written
    assert answer_to("GET", f"{base_url}/items/{written.body['id']}").body == written.body
    stored = answer_to("GET", f"{base_url}/items?per_page=100").body["items"]
    assert "Lost" not in [entry["name"] for entry in stored], "a write answered 503 is not stored"
    new_lines = service.log.read_text().splitlines()[log_lines:]
    assert [line for line in new_lines if not line.startswith("{")] == [], "the log holds JSON entries only"


def test_a_database_cut_off_by_the_network_is_a_503_until_it_is_back(
    project: Project, service_on_its_own_database: ServiceOnItsOwnDatabase
) -> None:
    database = service_on_its_own_database.database
    database_url = database.create_database(project.db_style)
    with started(project, database_url, "server-cut-off.log", SHORT_DATABASE_TIMEOUTS) as base_url:
        item = create_item(base_url, "Kept")
        with network_cut_off(database.port):
            answers = [
                answer_to("GET", f"{base_url}/items/{item['id']}"),
                answer_to("GET", f"{base_url}/health/ready"),
                answer_to("POST", f"{base_url}/items", {"name": "Lost", "price": 1}),
            ]
        within_retries(lambda: status_of(f"{base_url}/health/ready") == 200, "the service is ready again")
        after = answer_to("GET", f"{base_url}/items?per_page=100")

    assert answers == [UNAVAILABLE] * len(answers)
    assert after.body["items"] == [item], "the stored item is served, and the write answered 503 is not stored"


@contextmanager
def network_cut_off(port: int) -> Iterator[None]:
    """Every packet to `port` on loopback is dropped, as in a network partition, until the block ends."""
    if shutil.which("iptables") is None or os.geteuid() != 0:
        missing("iptables, as root", "`apt-get install iptables`, and root: the test drops packets on loopback")
    rule = ["INPUT", "--in-interface", "lo", "--protocol", "tcp", "--dport", str(port), "--jump", "DROP"]
    inserted = run(["iptables", "--wait", "--insert", *rule])
    assert inserted.returncode == 0, inserted.stderr
    try:
        yield
    finally:
        deleted = run(["iptables", "--wait", "--delete", *rule])
        assert deleted.returncode == 0, deleted.stderr


def create_item(base_url: str, name: str) -> dict[str, object]:
    created = httpx.post(f"{base_url}/items", json={"name": name, "price": 1}, timeout=CLIENT_TIMEOUT)
    assert created.status_code == 201, created.text
    item: dict[str, object] = created.json()
    return item


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    retry_after: str | None
    body: object


# What every request gets while the database is out of reach.
UNAVAILABLE = Answer(503, "application/problem+json", RETRY_AFTER, DATABASE_UNAVAILABLE)


def answer_to(method: str, url: str, payload: dict[str, object] | None = None) -> Answer:
    """The answer to `payload` (JSON), within CLIENT_TIMEOUT (else httpx raises: the service hangs)."""
    answer = httpx.request(method, url, json=payload, timeout=CLIENT_TIMEOUT)
    body = answer.json() if answer.content else None
    return Answer(answer.status_code, answer.headers.get("content-type"), answer.headers.get("retry-after"), body)


def status_of(url: str) -> int:
    return httpx.get(url, timeout=CLIENT_TIMEOUT).status_code


def within_retries(condition: Callable[[], bool], what: str, attempts: int = 40) -> None:
    """Until `condition` holds, checked every quarter of a second, `attempts` times at most."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"not after {attempts} attempts: {what}")
