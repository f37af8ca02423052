"""Deep checks on a covering subset: a generated project installs, passes its own lint, type check and
tests (against PostgreSQL when chosen), starts with its production command and serves the contract."""

import json
import os
import re
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_spec_validator import validate

from .combinations import DEEP, Answers, label
from .conftest import REPO, SLUG, python_for, render, run, tool
from .credentials import PASSWORD, fail_to_sign_in, identity_provider_module, issue_api_key, sign_in
from .servers import server_output, serving

pytestmark = pytest.mark.deep


UV_RUN = [tool("uv"), "run", "--frozen"]
SECRET_KEY = "production secret key, long enough"


def must_pass(project: Path, *command: str, env: dict[str, str] | None = None) -> None:
    result = run([*UV_RUN, *command], cwd=project, env={**os.environ, **(env or {})})
    assert result.returncode == 0, f"`{' '.join(command)}` failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


def exercise_contract(base_url: str, answers: Answers, **credentials: Any) -> list[str]:
    """Drive the contract as a client does; return the secrets the client sent or was given."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        assert client.get("/health/ready").json() == {"status": "ok", "database": "ok"}
        if answers["auth"] != "none":
            refused = client.get("/items")
            assert refused.status_code == 401, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
        secrets = list(sign_in(client, answers["auth"], **credentials).values())
        if answers["auth"] in ("jwt", "session"):
            secrets += [PASSWORD, fail_to_sign_in(client, answers["auth"])]
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
    return secrets


@pytest.mark.parametrize("answers", DEEP, ids=label)
def test_generated_project_passes_its_checks_and_serves(
    template_source: Path, tmp_path: Path, database_for: Callable[[Answers], str | None], answers: Answers
) -> None:
    project = render(template_source, tmp_path / "project", answers)
    uv_env = {"UV_PYTHON": python_for(answers["python_version"])}
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env={**os.environ, **uv_env})
    assert synced.returncode == 0, synced.stderr

    # The post-copy hook's step (tasks are skipped here): the committed contract the project's tests guard.
    must_pass(project, SLUG, "openapi", "--output", "openapi.json")
    validate(json.loads((project / "openapi.json").read_text()))
    must_pass(project, "ruff", "check", ".")
    must_pass(project, "ruff", "format", "--check", ".")
    must_pass(project, "mypy", "src", "tests")
    assert importable_names(project) - RESERVED_SLUGS == set(), "add these to reserved_slugs in copier.yml"
    test_database = database_for(answers)
    must_pass(project, "pytest", "-q", "-p", "no:cacheprovider", env={"TEST_DATABASE_URL": test_database or ""})

    # The most talkative log level: even then, no secret may reach the log.
    production = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "DEBUG"}
    if served_database := database_for(answers):
        production["DATABASE_URL"] = served_database
    must_pass(project, SLUG, "db", "upgrade", env=production)
    # Alembic's own commands (pyproject.toml's [tool.alembic]): the models and the migrations agree.
    must_pass(project, "alembic", "current", env=production)
    must_pass(project, "alembic", "check", env=production)
    with ExitStack() as stack:
        credentials: dict[str, Any] = {}
        if answers["auth"] == "oidc":
            provider = stack.enter_context(identity_provider_module().serve_identity_provider())
            production |= {"OIDC_ISSUER": provider.issuer, "OIDC_AUDIENCE": provider_audience()}
            credentials["identity_provider"] = provider
        if answers["auth"] == "api_key":
            credentials["issue_api_key"] = lambda name: issue_api_key(project, name, production)
        base_url = stack.enter_context(serving(project, [*UV_RUN, SLUG, "serve", "--workers", "2"], production))
        secrets = [SECRET_KEY, *exercise_contract(base_url, answers, **credentials)]
    logged = server_output(project)
    assert [secret for secret in secrets if secret in logged] == [], "the server logged these secrets"


RESERVED_SLUGS = set(yaml.safe_load((REPO / "copier.yml").read_text())["reserved_slugs"]["default"])
LIST_MODULES = (
    "import importlib.metadata, sys; "
    "print(*sorted(set(sys.stdlib_module_names) | set(importlib.metadata.packages_distributions())))"
)


def importable_names(project: Path) -> set[str]:
    """Top-level modules of the project's environment that a slug could shadow (it is a lowercase identifier)."""
    listed = run([*UV_RUN, "python", "-c", LIST_MODULES], cwd=project)
    assert listed.returncode == 0, listed.stderr
    return {name for name in listed.stdout.split() if re.fullmatch(r"[a-z][a-z0-9_]*", name)}


def provider_audience() -> str:
    audience: str = identity_provider_module().AUDIENCE
    return audience


MODEL_CHANGE = """
    colour: Mapped[str | None] = mapped_column(String(20))
"""


@pytest.mark.parametrize(
    "answers",
    [
        {"framework": "flask", "db_style": "sync", "database": "sqlite", "auth": "jwt"},
        {"framework": "fastapi", "db_style": "async", "database": "postgresql", "auth": "none"},
    ],
    ids=label,
)
def test_autogenerated_migration_of_a_model_change_applies(
    template_source: Path, tmp_path: Path, database_for: Callable[[Answers], str | None], answers: Answers
) -> None:
    """The README's `db revision --autogenerate` after a model change writes a migration, named by its date and
    formatted, that applies."""
    project = render(template_source, tmp_path / "project", answers)
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env={**os.environ, "UV_PYTHON": python_for("3.13")})
    assert synced.returncode == 0, synced.stderr
    env = {"DATABASE_URL": url} if (url := database_for(answers)) else {}
    must_pass(project, SLUG, "db", "upgrade", env=env)
    models = project / "src" / SLUG / "domain" / "items" / "models.py"
    text = models.read_text()
    anchor = "    price: Mapped[Decimal] = mapped_column(Money)\n"
    assert anchor in text, "the test's anchor is gone from models.py: update it"
    models.write_text(text.replace(anchor, anchor + MODEL_CHANGE.lstrip("\n")))

    must_pass(project, SLUG, "db", "revision", "--autogenerate", "-m", "add a colour", env=env)
    must_pass(project, SLUG, "db", "upgrade", env=env)
    must_pass(project, "alembic", "check", env=env)
    # The post-copy hook's step (tasks are skipped here): the committed contract the project's tests guard.
    must_pass(project, SLUG, "openapi", "--output", "openapi.json")
    validate(json.loads((project / "openapi.json").read_text()))
    must_pass(project, "ruff", "check", ".")
    must_pass(project, "ruff", "format", "--check", ".")
    must_pass(project, "mypy", "src")

    (migration,) = (project / "src" / SLUG / "db" / "migrations" / "versions").glob("*add_a_colour.py")
    assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}_add_a_colour\.py", migration.name), migration.name
    assert "add_column" in migration.read_text()
    assert "drop_" not in migration.read_text().split("def downgrade")[0], "autogenerate dropped something"
