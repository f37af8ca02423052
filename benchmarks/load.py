"""Load a running server with wrk, and watch how much memory its worker processes take meanwhile."""

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from tests.ports import listening_processes

from . import BenchmarkError

WRK_THREADS = 2
WRK_TIMEOUT_SECONDS = 2  # an answer slower than this counts as a timeout
RSS_SAMPLE_SECONDS = 0.1
# Between runs: the service is idle when its workers use less than this share of a CPU over a window.
IDLE_WINDOW_SECONDS = 0.1
IDLE_CPU_SHARE = 0.1
SETTLE_TIMEOUT_SECONDS = 60
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# wrk calls `done` once at the end of a run: it prints the summary as JSON, so nothing is parsed from text.
DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d,'
      .. ' "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""
# A run of a fixed number of requests: wrk's runs last their duration, so each thread stops once it has its share
# of answers and says so; the run is ended (SIGINT, as Ctrl-C ends wrk) once every thread has, and `done` reports.
SHARE_ANSWERED = "share answered"
STOP_AT_SHARE = """
local share, answered = %d, 0
response = function()
  answered = answered + 1
  if answered == share then
    io.write("%s\\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


@dataclass(frozen=True)
class Load:
    """What one wrk run measured. Errors are socket errors (connect, read, write) and answers with a status
    of 400 or more; timeouts are answers that took longer than the run's timeout (WRK_TIMEOUT_SECONDS unless it
    says otherwise). wrk cannot count the requests still unanswered when a run ends: a run that stalls shows as
    few requests per second or, when it was to end after a number of requests, as fewer answers."""

    requests: int  # answered
    requests_per_second: float
    # The worker processes' CPU time (user and system) over the run, per answer: other work on the machine skews
    # it far less than req/s, which it also slows down.
    cpu_ms_per_request: float
    p50_ms: float
    p99_ms: float
    errors: int
    timeouts: int
    peak_rss_mib: float  # the largest resident set of any one worker process during the run
    load_average: float  # the machine's, over the minute before the run: other work skews the figures


def wrk_command() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchmarkError("wrk is not installed: `apt-get install wrk` (Debian's package), then run again")
    return found


@dataclass(frozen=True)
class Server:
    """A server under load: where it answers, and its worker processes."""

    base_url: str
    workers: frozenset[int]

    @classmethod
    def at(cls, base_url: str) -> "Server":
        return cls(base_url, frozenset(worker_processes(urlsplit(base_url).port or 80)))


def run_load(
    server: Server,
    request: Request,
    *,
    connections: int,
    seconds: int,
    requests: int | None = None,
    timeout_seconds: int = WRK_TIMEOUT_SECONDS,
) -> Load:
    """Keep `connections` connections busy with `request` for `seconds` or, given `requests`, until that many are
    answered (then `seconds` bounds the run), and measure: once the server is idle, so that no run pays for the
    requests a previous one left behind. An answer slower than `timeout_seconds` counts as a timeout."""
    settle(server, request)
    load_average = os.getloadavg()[0]
    threads = min(connections, WRK_THREADS)
    share = math.ceil(requests / threads) if requests else None
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, tempfile.TemporaryFile("w+") as errors:
        script.write(lua_script(request, share))
        script.flush()
        command = [
            wrk_command(),
            f"--connections={connections}",
            f"--threads={threads}",
            f"--duration={seconds}s",
            f"--timeout={timeout_seconds}s",
            f"--script={script.name}",
            server.base_url + request.path,
        ]
        with RssSampler(server.workers) as rss:
            cpu_before = cpu_seconds(server.workers)
            output = run_wrk(command, threads, errors)
            cpu_used = cpu_seconds(server.workers) - cpu_before
        errors.seek(0)
        stderr = errors.read()
    summaries = [line for line in output.stdout.splitlines() if line.startswith("{")]
    if output.returncode != 0 or stderr or not summaries:
        raise BenchmarkError(f"`{' '.join(command)}` failed ({output.returncode}):\n{stderr}{output.stdout}")
    summary = json.loads(summaries[-1])
    return Load(
        requests=summary["requests"],
        requests_per_second=summary["requests"] / (summary["duration_us"] / 1e6),
        cpu_ms_per_request=cpu_used * 1000 / max(summary["requests"], 1),
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        errors=sum(summary[kind] for kind in ("connect", "read", "write", "status")),
        timeouts=summary["timeout"],
        peak_rss_mib=rss.peak / 2**20,
        load_average=load_average,
    )


def run_wrk(command: list[str], threads: int, errors: IO[str]) -> subprocess.CompletedProcess[str]:
    """Run wrk to its end, or until each of its `threads` has said that it got its share of answers."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True) as wrk:
        lines = []
        for line in wrk.stdout or ():
            lines.append(line)
            if line.rstrip("\n") == SHARE_ANSWERED and lines.count(line) == threads:
                wrk.send_signal(signal.SIGINT)
        return subprocess.CompletedProcess(command, wrk.wait(), "".join(lines))


def lua_script(request: Request, share: int | None = None) -> str:
    """The request, the summary as JSON and, given a `share`, each thread stops after that many answers."""
    lines = [f"wrk.method = {lua_string(request.method)}"]
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body)}")
    lines += [f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in request.headers.items()]
    stop = STOP_AT_SHARE % (share, SHARE_ANSWERED) if share else ""
    return "\n".join(lines) + "\n" + DONE + stop


def lua_string(value: str) -> str:
    if not (value.isascii() and value.isprintable()):
        raise ValueError(f"only printable ASCII goes into the wrk script, not {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def settle(server: Server, request: Request) -> None:
    """Wait until the workers stop using the CPU (a server goes on with the requests of the connections a run
    closed), then until one `request` is answered (a pool or a thread that a run left waiting has given up)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    used = cpu_seconds(server.workers)
    while time.monotonic() < deadline:
        time.sleep(IDLE_WINDOW_SECONDS)
        used, before = cpu_seconds(server.workers), used
        if used - before < IDLE_CPU_SHARE * IDLE_WINDOW_SECONDS:
            break
    url = server.base_url + request.path
    with contextlib.suppress(httpx.TimeoutException):
        timeout = max(deadline - time.monotonic(), 1)
        httpx.request(request.method, url, headers=request.headers, content=request.body, timeout=timeout)


def cpu_seconds(pids: Iterable[int]) -> float:
    """The CPU time the processes used so far (utime and stime of /proc/PID/stat)."""
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in map(stat_of, pids) if fields)
    return ticks / CLOCK_TICKS


def worker_processes(port: int) -> set[int]:
    """The server's worker processes: those listening on its port that another listening process started
    (gunicorn's and uvicorn's workers, not their master), or the one process that listens alone."""
    holders = listening_processes(port)
    return {pid for pid in holders if parent_of(pid) in holders} or holders


def parent_of(pid: int) -> int | None:
    fields = stat_of(pid)
    return int(fields[1]) if fields else None


def stat_of(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command's name (state, ppid, ...); none once the process ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat.rsplit(")", 1)[1].split()


def resident_bytes(pid: int) -> int:
    """VmRSS of a process (0 once it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) * 1024


class RssSampler:
    """Samples the resident set of each process every RSS_SAMPLE_SECONDS, in a thread, while in the `with`
    block; `peak` is the largest seen in any one of them."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            self._sample()

    def _sample(self) -> None:
        self.peak = max(self.peak, *(resident_bytes(pid) for pid in self.pids), 0)
