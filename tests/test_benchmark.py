"""The benchmark keeps working (marker `deep`): a quick run on a reduced set writes its three files, with a row
for every service, endpoint and concurrency. The figures themselves are never checked: they are measurements."""

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from .conftest import REPO, missing
from .postgres import postgres_available

pytestmark = pytest.mark.deep

# One generated service per server, one of them on PostgreSQL: every code path, in about a minute.
VARIANTS = {
    "flask-sync-sqlite": ("Flask-sync", "gunicorn gthread"),
    "fastapi-async-postgresql": ("FastAPI-async", "uvicorn"),
}
CONCURRENCY = [1, 4]
ENDPOINTS = ["GET /health/live", "GET /items", "GET /items/{id}", "POST /items"]


def test_quick_benchmark_writes_a_row_for_every_measurement(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        missing("wrk", "`apt-get install wrk` (Debian)")
    if not postgres_available():
        missing("PostgreSQL", "`apt-get install postgresql` (Debian), or set TEST_POSTGRES_URL to a server of yours")
    command = [sys.executable, "-m", "benchmarks", "--quick", "--variants", *VARIANTS, "--output", str(tmp_path)]
    concurrency = ["--concurrency", *map(str, CONCURRENCY)]
    # No timing is asserted; the timeout only turns a hung server into a failure rather than a stuck run.
    result = subprocess.run([*command, *concurrency], cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"

    results = json.loads((tmp_path / "results.json").read_text())
    measured = [
        (row["service"], row["server"], row["database"], row["endpoint"], row["concurrency"]) for row in results["rows"]
    ]
    floors = [
        ("floor", server, None, "GET /health/live", connections)
        for _, server in VARIANTS.values()
        for connections in CONCURRENCY
    ]
    services = [
        (name, server, key.rsplit("-", 1)[1], endpoint, connections)
        for key, (name, server) in VARIANTS.items()
        for endpoint in ENDPOINTS
        for connections in CONCURRENCY
    ]
    assert Counter(measured) == Counter(floors + services)
    for row in results["rows"]:
        assert {"vs_floor", "vs_flask_sync", "cpu_ms_per_request", "peak_rss_mib", "load_average"} <= row.keys(), row
        if row["database"] == "postgresql":  # Flask-sync on PostgreSQL was not run: no ratio to it
            assert row["vs_flask_sync"] is None, row
    assert results["meta"]["auth"] == "jwt"
    assert [step["step"] for step in results["setup"]] == ["`copier copy`"]

    table = [line for line in (tmp_path / "results.md").read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(measured) + 1 + 1  # headings, rows, then the set-up table's heading and row
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
