"""`copier update` keeps a project current, and swaps its web framework while keeping the domain code."""

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import copier
import httpx
import pytest
import yaml

from .conftest import PROJECT_NAME, SLUG, run, tool
from .credentials import PASSWORD, sign_in
from .servers import serving

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
TEAM_CODE = '''

def describe(item: ItemRead) -> str:
    """The team's own domain code, which a framework switch must keep."""
    return f"{item.name} at {item.price}"
'''
TEAM_ASYNC_MODULE = '''"""The team's own async code, which a switch to sync leaves for the team to convert."""

from sqlalchemy.ext.asyncio import AsyncSession

from .items import list_items


async def count_items(session: AsyncSession, owner_id: int) -> int:
    page = await list_items(session, owner_id=owner_id, page=1, per_page=1)
    return page.total
'''


def git(cwd: Path, *arguments: str) -> str:
    result = run(["git", *arguments], cwd=cwd, env={**os.environ, **GIT_IDENTITY})
    assert result.returncode == 0, result.stderr
    return result.stdout


def commit_all(repository: Path, message: str) -> None:
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", message)


@pytest.fixture
def released_template(template_source: Path, tmp_path: Path) -> Path:
    """The template as a git repository with a release tag, as users consume it."""
    repository = tmp_path / "template"
    shutil.copytree(template_source, repository)
    git(repository, "init", "--quiet", "--initial-branch", "main")
    commit_all(repository, "Template")
    git(repository, "tag", "v1.0.0")
    return repository


def project_files(project: Path) -> dict[str, bytes]:
    """Every file of the project outside `.git`, by relative path."""
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


def copier_update_command(project: Path, *answers: str) -> subprocess.CompletedProcess[str]:
    """`copier update` as users type it (README), with the post-copy step skipped."""
    data = [f"--data={answer}" for answer in answers]
    command = [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--skip-tasks", *data]
    return run(command, cwd=project, env={**os.environ, **GIT_IDENTITY})


@pytest.mark.deep
def test_switching_framework_refuses_a_silent_db_style_change_then_keeps_domain_code(
    released_template: Path, tmp_path: Path
) -> None:
    """From the default project (FastAPI, async), `-d framework=flask` alone would turn db_style into sync
    under the team's async code: Copier stops and changes nothing; with `-d db_style=sync` it switches, and
    the type checker points at the team code that must be converted."""
    project = tmp_path / "service"
    copier.run_copy(
        f"git+file://{released_template}",
        project,
        data={"project_name": PROJECT_NAME},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["db_style"] == "async"
    git(project, "init", "--quiet", "--initial-branch", "main")
    domain = project / "src" / SLUG / "domain"
    (domain / "items.py").write_text((domain / "items.py").read_text() + TEAM_CODE)
    (domain / "stock_report.py").write_text(TEAM_ASYNC_MODULE)
    export_openapi(project)  # as the post-copy hook does: the FastAPI project's contract is committed
    commit_all(project, "Generated, plus the team's own code")
    before = project_files(project)

    refused = copier_update_command(project, "framework=flask")

    assert refused.returncode != 0
    assert "'framework'" in refused.stderr
    assert "db_style=async" in refused.stderr
    assert "-d framework=flask -d db_style=sync" in refused.stderr
    assert git(project, "status", "--porcelain") == ""
    assert project_files(project) == before

    update(project, framework="flask", db_style="sync")

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["framework"], answers["db_style"]) == ("flask", "sync")
    assert TEAM_CODE in (domain / "items.py").read_text()
    assert (domain / "stock_report.py").read_text() == TEAM_ASYNC_MODULE
    assert "from flask" in (project / "src" / SLUG / "web" / "app.py").read_text()
    assert "fastapi" not in (project / "pyproject.toml").read_text()
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    typed = run([tool("uv"), "run", "--frozen", "mypy", "src"], cwd=project)
    assert typed.returncode != 0
    flagged = {line.split(":", 1)[0] for line in typed.stdout.splitlines() if ": error:" in line}
    assert flagged == {f"src/{SLUG}/domain/stock_report.py"}, typed.stdout
    tests = run([tool("uv"), "run", "--frozen", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:]


def serve_briefly(project: Path) -> AbstractContextManager[str]:
    """Lock and install the project as it now is, commit that, and serve it in development."""
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    commit_all(project, "Lock")
    return serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {"LOG_LEVEL": "WARNING"})


def stored_items(project: Path) -> list[tuple[str, int | None]]:
    with sqlite3.connect(project / "data" / f"{SLUG}.sqlite3") as database:
        return database.execute("SELECT name, owner_id FROM items ORDER BY id").fetchall()


def update(project: Path, **answers: str) -> None:
    copier.run_update(project, data=answers, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True)
    assert not conflict_markers(project), "the update left conflicts"
    commit_all(project, f"Update: {answers}")


@pytest.mark.deep
def test_changing_the_auth_answer_upgrades_the_database_and_keeps_its_rows(
    released_template: Path, tmp_path: Path
) -> None:
    """none -> jwt adds the auth tables beside the items already stored; jwt -> session keeps the accounts."""
    project = tmp_path / "service"
    copier.run_copy(
        f"git+file://{released_template}",
        project,
        data={"project_name": PROJECT_NAME, "auth": "none"},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    git(project, "init", "--quiet", "--initial-branch", "main")
    (project / ".git" / "info" / "exclude").write_text("server.log\n")  # the test server's log, not the team's
    commit_all(project, "Generated without authentication")
    with serve_briefly(project) as base_url:
        for name in ("Lamp", "Desk"):
            assert httpx.post(f"{base_url}/items", json={"name": name, "price": 1}).status_code == 201

    update(project, auth="jwt")
    with serve_briefly(project) as base_url, httpx.Client(base_url=base_url) as client:  # serve migrates first
        assert client.get("/items").status_code == 401
        sign_in(client, "jwt", "ada")
        assert client.get("/items").json()["total"] == 0  # items stored before auth have no owner
    assert stored_items(project) == [("Lamp", None), ("Desk", None)]

    update(project, auth="session")
    with serve_briefly(project) as base_url:
        login = httpx.post(f"{base_url}/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        assert login.status_code == 200, login.text  # the account made under jwt now signs in to a session
    export_openapi(project)  # the auth routes changed: the README's way to update the committed contract
    tests = run([tool("uv"), "run", "--frozen", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:]


def export_openapi(project: Path) -> None:
    exported = run([tool("uv"), "run", SLUG, "openapi", "--output", "openapi.json"], cwd=project)
    assert exported.returncode == 0, exported.stderr


def conflict_markers(project: Path) -> list[str]:
    """Files where Copier left an inline conflict (its default mode writes markers, never `.rej` files)."""
    grep = run(["git", "grep", "--untracked", "--files-with-matches", "-E", "^(<<<<<<<|>>>>>>>) "], cwd=project)
    return grep.stdout.split()
