"""Shared fixtures: render the template fast, and find the tools the checks run."""

import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import copier
import pytest

from .combinations import Answers
from .postgres import PostgresServer, postgres_available, postgres_server

REPO = Path(__file__).resolve().parent.parent
TEMPLATE_FILES = ["copier.yml", "hooks", "includes", "template"]
PROJECT_NAME = "Acme Inventory"
SLUG = "acme_inventory"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def missing(component: str, install: str) -> NoReturn:
    """Skip a test that needs a component this machine lacks, saying what to install; under CI=true, where
    every component must be there (`.ci/run` installs them), fail instead."""
    message = f"needs {component}: {install}"
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(f"{message} (CI=true: nothing may be skipped)")
    pytest.skip(message)


def tool(name: str) -> str:
    """A command installed beside this interpreter (the dev environment), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: install the template's dev dependencies (see README)")
    return found


def run(command: list[str | Path], cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)


def git(cwd: Path, *arguments: str) -> str:
    result = run(["git", *arguments], cwd=cwd, env={**os.environ, **GIT_IDENTITY})
    assert result.returncode == 0, result.stderr
    return result.stdout


def tag_release(repository: Path, tag: str) -> Path:
    """Commit all of `repository` (made a git repository at its first release) and tag it, as a template is
    released and as Copier finds its versions."""
    if not (repository / ".git").exists():
        git(repository, "init", "--quiet", "--initial-branch", "main")
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", f"Release {tag}")
    git(repository, "tag", tag)
    return repository


def python_for(version: str) -> str:
    """An interpreter of that version for uv (it cannot download one on these machines)."""
    found = run([tool("uv"), "python", "find", "--no-project", version])
    if found.returncode != 0:
        missing(f"Python {version}", f"`uv python install {version}` (or your system's packages)")
    return found.stdout.strip()


def copy_template(destination: Path) -> Path:
    """The template as a plain directory (working tree, uncommitted edits included): no git clone per render."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_FILES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, destination / name)
    return destination


@pytest.fixture(scope="session")
def template_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template-source"))


def render(template_source: Path | str, destination: Path, answers: Answers, vcs_ref: str | None = None) -> Path:
    copier.run_copy(
        str(template_source),
        destination,
        data={"project_name": PROJECT_NAME, **answers},
        vcs_ref=vcs_ref,
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    return destination


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if not postgres_available():
        missing("PostgreSQL", "`apt-get install postgresql` (Debian), or set TEST_POSTGRES_URL to a server of yours")
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def database_for(request: pytest.FixtureRequest) -> Callable[[Answers], str | None]:
    """A new, empty database for a project of these answers: PostgreSQL's, or None (the project's SQLite file).
    The PostgreSQL server is started only for the answers that need it."""

    def create(answers: Answers) -> str | None:
        if answers["database"] != "postgresql":
            return None
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.create_database(answers["db_style"])

    return create


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What ran, and what was skipped for want of which component."""
    stats = terminalreporter.stats
    reasons = Counter(
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in stats.get("skipped", [])
        if isinstance(report.longrepr, tuple)
    )
    terminalreporter.section("template tests")
    counts = ", ".join(f"{len(stats.get(outcome, []))} {outcome}" for outcome in ("passed", "failed", "skipped"))
    terminalreporter.line(counts)
    for reason, count in reasons.most_common():
        terminalreporter.line(f"  {count} skipped: {reason}")
