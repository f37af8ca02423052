"""Benchmark the generated services: throughput under wrk, and the way from template to running service.

From the root of the repository, with the template's dev environment (see README):

    .venv/bin/python -m benchmarks [--quick] [--docker]

Renders Flask-sync, FastAPI-sync and FastAPI-async, each on SQLite and on PostgreSQL (a throwaway server on
loopback), from the working tree, with auth=jwt and the same Python; starts each with its production command
and the same number of workers, and loads four endpoints with wrk (Debian's `wrk`) at 1, 16 and 64 connections.
Floors: the same servers, started the same way, serving a bare hello-JSON app. Also times `copier copy`, copy →
green `uv run pytest` and, with --docker, the image's build, size over its base and start → ready.

Writes results.md, results.json and chart.png to build/benchmarks/. Prints figures, asserts nothing.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.postgres import PostgresServer, postgres_available, postgres_server

from . import BenchmarkError
from .lifecycle import Step, copy_and_test, image_steps
from .load import WRK_THREADS, WRK_TIMEOUT_SECONDS, Load, Request, Server, run_load, wrk_command
from .report import FLOOR, Row, add_ratios, chart, markdown, write_json
from .variants import (
    AUTH,
    PYTHON_VERSION,
    VARIANTS,
    Variant,
    find_python,
    install,
    production_environment,
    seed,
    serve_floor,
    serve_variant,
    versions,
)

ENDPOINTS = ["GET /health/live", "GET /items", "GET /items/{id}", "POST /items"]  # POST last: it grows the table
FLOOR_ENDPOINT = ENDPOINTS[0]
PAGE_SIZE = 20
NEW_ITEM = '{"name": "benchmark item", "description": "made under load", "price": 9.5}'


def requests(token: str, item_id: int) -> dict[str, Request]:
    signed_in = {"Authorization": f"Bearer {token}"}
    return {
        "GET /health/live": Request("GET", "/health/live", {}),
        "GET /items": Request("GET", f"/items?per_page={PAGE_SIZE}", signed_in),
        "GET /items/{id}": Request("GET", f"/items/{item_id}", signed_in),
        "POST /items": Request("POST", "/items", {**signed_in, "Content-Type": "application/json"}, NEW_ITEM),
    }


@dataclass(frozen=True)
class Plan:
    variants: list[Variant]
    concurrency: list[int]
    workers: int  # per server
    seconds: int  # per run
    warmup: int  # seconds of a warm-up run per GET endpoint and service; 0: none
    test_suite: bool  # time copy → green `uv run pytest`
    docker: bool
    output: Path


def parse_arguments(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s runs at 16 connections, no warm-up, no test-suite timing: under two minutes on 2 idle CPUs",
    )
    parser.add_argument("--docker", action="store_true", help="also build and start the default project's image")
    keys = [variant.key for variant in VARIANTS]
    parser.add_argument("--variants", nargs="+", choices=keys, default=keys, metavar="VARIANT", help=", ".join(keys))
    parser.add_argument("--concurrency", nargs="+", type=int, help="open connections per run (1 16 64; 16 if quick)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of every server (2)")
    parser.add_argument("--seconds", type=int, help="length of a run (10; 1 if quick)")
    parser.add_argument("--output", type=Path, default=REPO / "build" / "benchmarks", help="(build/benchmarks)")
    arguments = parser.parse_args(argv)
    return Plan(
        variants=[variant for variant in VARIANTS if variant.key in arguments.variants],
        concurrency=arguments.concurrency or ([16] if arguments.quick else [1, 16, 64]),
        workers=arguments.workers,
        seconds=arguments.seconds or (1 if arguments.quick else 10),
        warmup=0 if arguments.quick else 2,
        test_suite=not arguments.quick,
        docker=arguments.docker,
        output=arguments.output,
    )


def main(argv: list[str] | None = None) -> int:
    plan = parse_arguments(argv)
    try:
        run(plan)
    except BenchmarkError as error:
        print(f"benchmarks: {error}", file=sys.stderr)
        return 1
    return 0


def run(plan: Plan) -> None:
    with_postgres = any(variant.database == "postgresql" for variant in plan.variants)
    if with_postgres and not postgres_available():
        raise BenchmarkError("PostgreSQL is not installed: `apt-get install postgresql` (or set TEST_POSTGRES_URL)")
    meta = describe(plan)
    python = find_python(PYTHON_VERSION)
    with (
        tempfile.TemporaryDirectory(prefix="benchmarks-") as scratch,
        ExitStack() as stack,
        ThreadPoolExecutor(max_workers=1) as background,
    ):
        workdir = Path(scratch)
        # PostgreSQL starts while the services are rendered and installed; it stops with the stack.
        starting = background.submit(stack.enter_context, postgres_server()) if with_postgres else None
        say(f"rendering and installing {len(plan.variants)} services from the working tree")
        projects = install(plan.variants, workdir, python)
        meta["versions"] = {variant.key: versions(variant, projects[variant]) for variant in plan.variants}
        meta["python"] = ", ".join(sorted({found["python"] for found in meta["versions"].values()}))
        postgres = starting.result() if starting else None
        rows: list[Row] = []
        for variant in plan.variants:
            if variant.server not in {row.server for row in rows}:  # the first project of a server hosts its floor
                rows += measure_floor(variant, projects[variant], postgres, plan)
            rows += measure_variant(variant, projects[variant], postgres, plan)
        say("`copier copy`" + (", then its tests" if plan.test_suite else ""))
        copied, steps = copy_and_test(workdir, python, run_tests=plan.test_suite)
        if plan.docker:
            say("building and starting the image of the copy")
            steps += image_steps(copied)
    rows.sort(key=lambda row: row.service != FLOOR)
    add_ratios(rows)
    write(plan.output, meta, rows, steps)


def describe(plan: Plan) -> dict[str, Any]:
    """What the run is, and on what: the results' `meta`."""
    wrk = subprocess.run([wrk_command(), "-v"], capture_output=True, text=True, check=False).stdout
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("describe", "--always", "--dirty"),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
        "auth": AUTH,
        "workers": plan.workers,
        "concurrency": plan.concurrency,
        "seconds": plan.seconds,
        "warmup_seconds": plan.warmup,
        "wrk": wrk.split("[")[0].strip(),
        "wrk_threads": WRK_THREADS,
        "timeout_seconds": WRK_TIMEOUT_SECONDS,
    }


def measure_variant(variant: Variant, project: Path, postgres: PostgresServer | None, plan: Plan) -> list[Row]:
    env = production_environment(variant, project, postgres)
    with serve_variant(variant, project, env, plan.workers) as base_url:
        token, item_id = seed(base_url)
        row = partial(Row.of, variant.name, variant.server, variant.database)
        return measure(Server.at(base_url), requests(token, item_id), ENDPOINTS, row, plan)


def measure_floor(variant: Variant, project: Path, postgres: PostgresServer | None, plan: Plan) -> list[Row]:
    env = production_environment(variant, project, postgres)
    with serve_floor(variant, project, env, plan.workers) as base_url:
        row = partial(Row.of, FLOOR, variant.server, None)
        return measure(Server.at(base_url), requests("", 0), [FLOOR_ENDPOINT], row, plan)


def measure(
    server: Server, loads: dict[str, Request], endpoints: list[str], row: Callable[[str, int, Load], Row], plan: Plan
) -> list[Row]:
    """Load each endpoint at each concurrency, after a warm-up run of each GET endpoint at the highest."""
    for endpoint in endpoints:
        if plan.warmup and loads[endpoint].method == "GET":
            run_load(server, loads[endpoint], connections=max(plan.concurrency), seconds=plan.warmup)
    rows = []
    for endpoint in endpoints:
        for connections in plan.concurrency:
            load = run_load(server, loads[endpoint], connections=connections, seconds=plan.seconds)
            rows.append(row(endpoint, connections, load))
            say(
                f"  {rows[-1].label:28} {endpoint:16} {connections:3} connections {load.requests_per_second:6.0f} req/s"
                f"  {load.cpu_ms_per_request:5.2f} CPU ms"
                f"  p99 {load.p99_ms:6.1f} ms  errors {load.errors}  timeouts {load.timeouts}"
            )
    return rows


def write(output: Path, meta: dict[str, Any], rows: list[Row], steps: list[Step]) -> None:
    output.mkdir(parents=True, exist_ok=True)
    write_json(output / "results.json", meta, rows, steps)
    (output / "results.md").write_text(markdown(meta, rows, steps))
    chart(output / "chart.png", meta, rows)
    say(f"wrote results.md, results.json and chart.png to {output}")


def git(*arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()


STARTED = time.monotonic()


def say(line: str) -> None:
    print(f"[{time.monotonic() - STARTED:4.0f} s] {line}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
