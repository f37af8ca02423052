"""Run a generated project's production server as a user would, and wait until it answers."""

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from .ports import free_port, listening_processes, session_of

GRACEFUL_EXIT_CODES = {0, 128 + signal.SIGTERM}
SERVER_LOG = "server.log"


class ServerFailed(AssertionError):
    pass


@contextmanager
def serving(
    project: Path, command: list[str], env: dict[str, str], timeout: float = 60, log_name: str = SERVER_LOG
) -> Iterator[str]:
    """Start `command` (which takes --port) in `project`; yield its base URL; stop it with SIGTERM. What it
    writes, stdout and stderr, is left in `project / log_name` (see `server_output`).

    On exit the server must stop by itself within 30 s of SIGTERM, with status 0, or 143 (128 + SIGTERM):
    uvicorn re-raises the signal once its graceful shutdown is complete, so that callers see why it ended.
    """
    port = free_port()
    log = (project / log_name).open("w+")
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=project,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_live(base_url, port, process, timeout)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
        log.seek(0)
        output = log.read()
        log.close()
    if code not in GRACEFUL_EXIT_CODES:
        raise ServerFailed(f"server exited with {code} after SIGTERM:\n{output[-4000:]}")


def server_output(project: Path, log_name: str = SERVER_LOG) -> str:
    """What the last server that `serving` ran in `project` wrote, from start to exit."""
    return (project / log_name).read_text()


def answers_ok(url: str, timeout: float, running: Callable[[], bool] = lambda: True, interval: float = 0.2) -> bool:
    """Whether GET `url` answers 200 within `timeout` seconds; False at once when `running()` says the server
    has stopped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(interval)
    return False


def _wait_until_live(base_url: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Until the server answers /health/live, from a process of its own session (started with
    `start_new_session`, so the session id is the command's pid): not another test's server on the port."""
    if not answers_ok(f"{base_url}/health/live", timeout, running=lambda: process.poll() is None):
        if process.poll() is not None:
            raise ServerFailed(f"server exited early with {process.returncode}")
        raise ServerFailed(f"server did not answer /health/live within {timeout} s")
    if not any(session_of(pid) == process.pid for pid in listening_processes(port)):
        raise ServerFailed(f"another process answers on port {port}: pick a new port and start again")
