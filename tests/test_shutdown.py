"""SIGTERM while a request is in flight, as at every deployment: the request still gets its whole answer, and
the server then exits by itself, for both frameworks' production servers. (`test_docker.py` checks the same
stop inside the container, where the server is PID 1.) From start to exit, every line such a server writes is
an entry of the project's JSON log format."""

import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import SLUG, render, run, tool
from .ports import listening_processes, session_of
from .servers import server_output, serving

pytestmark = pytest.mark.deep

ITEM = json.dumps({"name": "Lamp", "price": 12}).encode()
STOP_WITHIN = 30  # seconds: the servers' graceful timeouts are shorter
LOG_FIELDS = {"time", "level", "logger", "message"}
# Each production server's logger, and the beginnings of a message it logs at start-up and one at exit.
SERVER_LINES = {
    "fastapi": ("uvicorn.error", "Started server process", "Finished server process"),
    "flask": ("gunicorn.error", "Booting worker", "Shutting down: Master"),
}


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def project(template_source: Path, tmp_path_factory: pytest.TempPathFactory, framework: str) -> Path:
    answers = {"framework": framework, "db_style": "sync", "auth": "none"}
    project = render(template_source, tmp_path_factory.mktemp(framework) / "project", answers)
    assert run([tool("uv"), "sync", "--quiet"], cwd=project).returncode == 0
    return project


def start_request(port: int) -> socket.socket:
    """A POST whose headers and first half of body are sent: the server is reading it."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=STOP_WITHIN)
    head = f"POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(ITEM)}"
    connection.sendall(f"{head}\r\n\r\n".encode() + ITEM[: len(ITEM) // 2])
    return connection


def finish_request(connection: socket.socket) -> bytes:
    connection.sendall(ITEM[len(ITEM) // 2 :])
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        answer += chunk
    connection.close()
    return answer


def log_entry(line: str) -> dict[str, Any]:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        entry = None
    assert isinstance(entry, dict), f"not a JSON object: {line!r}"
    assert entry.keys() >= LOG_FIELDS, f"not an entry of the log format: {line!r}"
    return entry


def test_sigterm_lets_the_request_in_flight_finish(project: Path) -> None:
    with serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {}) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        in_flight = start_request(port)
        time.sleep(0.5)  # the server has read the headers and waits for the rest of the body
        (server,) = {session_of(pid) for pid in listening_processes(port)}
        assert server, "the server runs in a session of its own"
        os.kill(server, signal.SIGTERM)
        time.sleep(1)  # the shutdown has begun
        answer = finish_request(in_flight)

        assert answer.startswith(b"HTTP/1.1 201"), f"the request in flight was cut off: {answer[:300]!r}"
        assert b'"name":"Lamp"' in answer.replace(b" ", b"")
        deadline = time.monotonic() + STOP_WITHIN
        while listening_processes(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not listening_processes(port), f"the server still listens {STOP_WITHIN} s after SIGTERM"


def test_every_line_the_server_writes_is_a_json_log_entry(project: Path, framework: str) -> None:
    command = [str(project / ".venv" / "bin" / SLUG), "serve", "--workers", "2"]  # as in the image: no uv around it
    with serving(project, command, {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}) as base_url:
        answers = [httpx.get(f"{base_url}/items", headers=headers) for headers in ({"X-Request-ID": "sent-id"}, {})]
    entries = [log_entry(line) for line in server_output(project).splitlines() if line.strip()]

    logger, start, exit_ = SERVER_LINES[framework]
    server_messages = [entry["message"] for entry in entries if entry["logger"] == logger]
    assert any(message.startswith(start) for message in server_messages), f"no start-up line: {server_messages}"
    assert any(message.startswith(exit_) for message in server_messages), f"no exit line: {server_messages}"
    assert {entry.get("request_id") for entry in entries if entry["logger"] == logger} == {None}
    request_ids = [answer.headers["X-Request-ID"] for answer in answers]
    assert request_ids[0] == "sent-id", "the request id sent is echoed"
    logged = [entry for entry in entries if "/items" in entry["message"]]
    assert sorted(entry.get("request_id") for entry in logged) == sorted(request_ids), (
        f"one entry per request (no access log besides the app's), with the id its answer carried: {logged}"
    )
