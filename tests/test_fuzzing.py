"""Fuzzing: Schemathesis sends generated requests to a service, from the service's own OpenAPI document.

Every `auth` answer is fuzzed once, on one framework: the parity test proves that both frameworks publish
the same document and answer the same requests, so serving both for every answer would double the time for
little more coverage. `FRAMEWORK_OF` spreads the answers over both frameworks (and, through the parity
test's `PAIRINGS`, over SQLite and PostgreSQL, sync and async). Each service runs with its production
command on a fresh database; with authentication, Schemathesis sends the credentials of a signed-in client.

Checks, in Schemathesis's deterministic mode with a bounded number of examples per operation so that CI is
reproducible: no answer is a server error, every answer's status, headers and body are the ones the document
declares for its operation, and the routes that document a security requirement refuse the requests sent
without their credentials (`ignored_auth`).
A run also fails when the credentials it sends are refused everywhere (`missing_auth`): a run that only
ever saw 401 would check nothing. With sessions, `POST /auth/logout` is left out: it would end the very
session whose cookie every other request sends (the parity test covers logging out).
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .combinations import Answers
from .conftest import SLUG, python_for, render, run, tool
from .credentials import identity_provider_module, issue_api_key, sign_in
from .servers import serving
from .test_parity import ANSWERS, AUTHS, CREDENTIAL_HEADERS, PAIRINGS, SECRET_KEY, answers_of, must_run

pytestmark = pytest.mark.deep

# Each framework serves some of the answers, so that both frameworks and all answers are fuzzed.
FRAMEWORK_OF = {"none": "flask", "jwt": "fastapi", "session": "flask", "api_key": "fastapi", "oidc": "flask"}
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "ignored_auth",
)
MAX_EXAMPLES = 25
# Refused credentials fail the run instead of passing it with a warning.
CONFIGURATION = '[warnings]\nfail-on = ["missing_auth"]\n'
# Operations that would revoke the credentials the run sends.
REVOKING = {"session": ["/auth/logout"]}


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[Any]:
    with identity_provider_module().serve_identity_provider() as provider:
        yield provider


@pytest.fixture(params=AUTHS)
def project(request: pytest.FixtureRequest, template_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project of one auth answer, on the framework `FRAMEWORK_OF` names, installed."""
    auth, framework = request.param, FRAMEWORK_OF[request.param]
    answers = {**ANSWERS, **PAIRINGS[auth], "auth": auth, "framework": framework}
    if framework == "flask":
        answers["db_style"] = "sync"
    project = render(template_source, tmp_path_factory.mktemp(f"fuzz-{framework}-{auth}") / "project", answers)
    environment = {**os.environ, "UV_PYTHON": python_for(ANSWERS["python_version"])}
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env=environment)
    assert synced.returncode == 0, synced.stderr
    return project


def test_fuzzed_requests_get_documented_answers(
    project: Path,
    identity_provider: Any,
    database_for: Callable[[Answers], str | None],
    tmp_path: Path,
) -> None:
    answers = answers_of(project)
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "WARNING"}
    if answers["auth"] == "oidc":
        env |= {"OIDC_ISSUER": identity_provider.issuer, "OIDC_AUDIENCE": identity_provider_module().AUDIENCE}
    env["DATABASE_URL"] = database_for(answers) or f"sqlite:///{tmp_path}/fuzz.db"
    if answers["database"] == "postgresql":
        must_run(project, [SLUG, "db", "upgrade"], env)
    command = [tool("uv"), "run", "--frozen", SLUG, "serve", "--workers", "2"]
    configuration = tmp_path / "schemathesis.toml"
    configuration.write_text(CONFIGURATION)
    with serving(project, command, env) as base_url:
        with httpx.Client(base_url=base_url, timeout=30) as signing_in:
            sign_in(
                signing_in,
                answers["auth"],
                issue_api_key=lambda name: issue_api_key(project, name, env),
                identity_provider=identity_provider,
            )
            credentials = {name: signing_in.headers[name] for name in CREDENTIAL_HEADERS if name in signing_in.headers}
        fuzzed = run(
            [
                tool("st"),
                "--config-file",
                configuration,
                "run",
                f"{base_url}/openapi.json",
                "--checks",
                ",".join(CHECKS),
                "--max-examples",
                str(MAX_EXAMPLES),
                "--generation-deterministic",
                "--workers",
                "1",
                "--no-color",
                *(option for name, value in credentials.items() for option in ("--header", f"{name}: {value}")),
                *(option for path in REVOKING.get(answers["auth"], []) for option in ("--exclude-path", path)),
            ],
            cwd=tmp_path,  # where Schemathesis keeps its cache
        )

    assert fuzzed.returncode == 0, fuzzed.stdout[-8000:] + fuzzed.stderr[-2000:]
