"""Deep checks on a covering subset: a generated project installs, passes its own lint, type check and
tests (against PostgreSQL when chosen), starts with its production command and serves the contract."""

import os
from pathlib import Path

import httpx
import pytest

from .combinations import DEEP, Answers, label
from .conftest import SLUG, python_for, render, run, tool
from .postgres import PostgresServer
from .servers import serving

pytestmark = pytest.mark.deep


def database_url(answers: Answers, postgres: PostgresServer) -> str | None:
    return postgres.create_database(answers["db_style"]) if answers["database"] == "postgresql" else None


def must_pass(project: Path, *command: str, env: dict[str, str] | None = None) -> None:
    result = run([tool("uv"), "run", "--frozen", *command], cwd=project, env={**os.environ, **(env or {})})
    assert result.returncode == 0, f"`{' '.join(command)}` failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


def exercise_contract(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        assert client.get("/health/ready").json() == {"status": "ok", "database": "ok"}
        created = client.post("/items", json={"name": "Lamp", "price": 19.5})
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        assert client.get(location).json() == created.json()
        assert client.get("/items").json()["total"] == 1
        invalid = client.post("/items", json={"name": ""})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
        assert "swagger-ui" in client.get("/docs").text


@pytest.mark.parametrize("answers", DEEP, ids=label)
def test_generated_project_passes_its_checks_and_serves(
    template_source: Path, tmp_path: Path, postgres: PostgresServer, answers: Answers
) -> None:
    project = render(template_source, tmp_path / "project", answers)
    uv_env = {"UV_PYTHON": python_for(answers["python_version"])}
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env={**os.environ, **uv_env})
    assert synced.returncode == 0, synced.stderr

    must_pass(project, "ruff", "check", ".")
    must_pass(project, "ruff", "format", "--check", ".")
    must_pass(project, "mypy", "src", "tests")
    test_database = database_url(answers, postgres)
    must_pass(project, "pytest", "-q", "-p", "no:cacheprovider", env={"TEST_DATABASE_URL": test_database or ""})

    production = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "LOG_LEVEL": "WARNING"}
    if served_database := database_url(answers, postgres):
        production["DATABASE_URL"] = served_database
        must_pass(project, SLUG, "db", "upgrade", env=production)
    with serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve", "--workers", "2"], production) as base_url:
        exercise_contract(base_url)
