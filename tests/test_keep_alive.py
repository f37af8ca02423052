"""A request sent on a kept-alive connection that idled is answered, by both frameworks' production servers.

A front proxy (an ingress, a load balancer, Fly's or Render's proxy) keeps its idle connections to the service
for a minute or more and sends the next request on one of them. The servers used to close an idle connection
after their own defaults, gunicorn's 2 s and uvicorn's 5 s: a request sent on it then was never answered
("Server disconnected without sending a response"; behind a proxy, a 502). They now keep it open for
KEEP_ALIVE_TIMEOUT seconds (620 by default, longer than the proxies DEPLOY.md lists), and that setting is
theirs: set to 1 s, the server closes a connection idle for longer.
"""

import http.client
import time
from pathlib import Path

import pytest

from .conftest import SLUG, render, run, tool
from .servers import serving

pytestmark = pytest.mark.deep

# The idle limit each server had before KEEP_ALIVE_TIMEOUT (gunicorn's and uvicorn's defaults). The client
# idles just under it, just past it, and past the next time gunicorn looks for expired connections (it looks
# once a second).
FORMER_LIMITS = {"flask": 2, "fastapi": 5}
IDLE_OFFSETS = (-0.5, 0.5, 1.5)
CLIENT_TIMEOUT = 10
# Seconds after which a server whose KEEP_ALIVE_TIMEOUT is 1 has closed an idle connection (gunicorn after 2 s at
# most), and uvicorn's former limit has not passed yet.
CLOSED_AFTER = 4


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def project(template_source: Path, tmp_path_factory: pytest.TempPathFactory, framework: str) -> Path:
    answers = {"framework": framework, "db_style": "sync", "auth": "none"}
    project = render(template_source, tmp_path_factory.mktemp(framework) / "project", answers)
    assert run([tool("uv"), "sync", "--quiet"], cwd=project).returncode == 0
    return project


def answer_on(connection: http.client.HTTPConnection) -> tuple[int, int, bool] | str:
    """GET /health/live on `connection`: the answer's status, the local port of the connection it was sent on,
    and whether the server said it closes that connection; or the error the client got instead of an answer."""
    try:
        connection.request("GET", "/health/live")
        port = connection.sock.getsockname()[1]
        answer = connection.getresponse()
        answer.read()
    except (http.client.HTTPException, OSError) as error:
        connection.close()
        return f"{type(error).__name__}: {error}"
    return answer.status, port, answer.will_close


def test_a_request_on_a_connection_that_idled_is_answered_on_it(project: Path, framework: str) -> None:
    idles = [FORMER_LIMITS[framework] + offset for offset in IDLE_OFFSETS]
    with serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {}) as base_url:
        connection = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=CLIENT_TIMEOUT)
        first = answer_on(connection)
        answers = {}
        for idle in idles:
            time.sleep(idle)
            answers[idle] = answer_on(connection)
        connection.close()

    assert isinstance(first, tuple), first
    status, port, closing = first
    assert (status, closing) == (200, False), "the first answer keeps the connection open"
    assert answers == dict.fromkeys(idles, (200, port, False)), "(status, port, closing) after each idle period"


def test_the_server_closes_a_connection_idle_longer_than_keep_alive_timeout(project: Path) -> None:
    with serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {"KEEP_ALIVE_TIMEOUT": "1"}) as base_url:
        connection = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=CLIENT_TIMEOUT)
        first = answer_on(connection)
        time.sleep(CLOSED_AFTER)
        connection.sock.setblocking(False)
        try:
            ended = connection.sock.recv(1) == b""  # the server ended the connection, and sent nothing before
        except BlockingIOError:  # nothing to read yet: the connection is open
            ended = False
        connection.close()

    assert isinstance(first, tuple), first
    assert first[0] == 200
    assert ended, f"the connection is still open after idling {CLOSED_AFTER} s with KEEP_ALIVE_TIMEOUT=1"
