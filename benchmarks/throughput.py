"""Throughput of generated services under load: prints figures, asserts nothing.

Renders one project per framework, starts each with its production command on loopback, fills the
database with 200 items, then runs `wrk` (Debian package `wrk`) against a page of 20 items and a
single item. Run from the repository root:

    .venv/bin/python -m benchmarks.throughput [--seconds 10] [--connections 16] [--workers 2]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.conftest import SLUG, copy_template, render
from tests.servers import serving

COMBINATIONS = {
    "flask (sync, gunicorn gthread)": {"framework": "flask", "db_style": "sync"},
    "fastapi (sync, uvicorn)": {"framework": "fastapi", "db_style": "sync"},
    "fastapi (async, uvicorn)": {"framework": "fastapi", "db_style": "async"},
}
ENDPOINTS = {"page of 20": "/items?per_page=20", "one item": "/items/1"}


def wrk(url: str, seconds: int, connections: int) -> str:
    result = subprocess.run(
        ["wrk", f"-d{seconds}s", f"-c{connections}", "-t2", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    p99 = re.search(r"99%\s+(\S+)", result.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    requests_per_second = float(rate.group(1)) if rate else 0.0
    latency = p99.group(1) if p99 else "?"
    return f"{requests_per_second:8.0f} req/s  p99 {latency:>8}  non-2xx {errors.group(1) if errors else 0}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    uv = str(Path(sys.executable).parent / "uv")
    with tempfile.TemporaryDirectory() as scratch:
        source = copy_template(Path(scratch) / "template")
        print(f"{args.connections} connections, {args.workers} workers, {args.seconds} s per run, SQLite")
        for title, answers in COMBINATIONS.items():
            project = render(source, Path(scratch) / title.split()[0] / answers["db_style"], answers)
            subprocess.run([uv, "sync", "--quiet", "--no-dev"], cwd=project, check=True)
            env = {"APP_ENV": "production", "SECRET_KEY": "b" * 40, "LOG_LEVEL": "WARNING", **os.environ}
            command = [uv, "run", "--frozen", "--no-dev", SLUG, "serve", "--workers", str(args.workers)]
            with serving(project, command, env) as base_url:
                for number in range(200):
                    httpx.post(f"{base_url}/items", json={"name": f"item {number}", "price": number})
                for endpoint, path in ENDPOINTS.items():
                    print(f"{title:32} {endpoint:11} {wrk(base_url + path, args.seconds, args.connections)}")


if __name__ == "__main__":
    main()
