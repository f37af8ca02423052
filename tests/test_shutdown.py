"""SIGTERM while a request is in flight, as at every deployment: the request still gets its whole answer, and
the server then exits by itself, for both frameworks' production servers. (`test_docker.py` checks the same
stop inside the container, where the server is PID 1.)"""

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from .conftest import SLUG, render, run, tool
from .ports import listening_processes, session_of
from .servers import serving

pytestmark = pytest.mark.deep

ITEM = json.dumps({"name": "Lamp", "price": 12}).encode()
STOP_WITHIN = 30  # seconds: the servers' graceful timeouts are shorter


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


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_sigterm_lets_the_request_in_flight_finish(template_source: Path, tmp_path: Path, framework: str) -> None:
    answers = {"framework": framework, "db_style": "sync", "auth": "none"}
    project = render(template_source, tmp_path / "project", answers)
    assert run([tool("uv"), "sync", "--quiet"], cwd=project).returncode == 0

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
