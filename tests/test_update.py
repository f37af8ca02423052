"""`copier update` keeps a project current, and swaps its web framework while keeping the domain code."""

import os
import shutil
import sqlite3
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


@pytest.mark.deep
def test_switching_framework_keeps_domain_code_and_passes_tests(released_template: Path, tmp_path: Path) -> None:
    project = tmp_path / "service"
    copier.run_copy(
        f"git+file://{released_template}",
        project,
        data={"project_name": PROJECT_NAME, "framework": "fastapi", "db_style": "sync"},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    git(project, "init", "--quiet", "--initial-branch", "main")
    domain_items = project / "src" / SLUG / "domain" / "items.py"
    domain_items.write_text(domain_items.read_text() + TEAM_CODE)
    export_openapi(project)  # as the post-copy hook does: the FastAPI project's contract is committed
    commit_all(project, "Generated, plus the team's own code")

    copier.run_update(
        project, data={"framework": "flask"}, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True
    )

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["framework"] == "flask"
    assert TEAM_CODE in domain_items.read_text()
    assert "from flask" in (project / "src" / SLUG / "web" / "app.py").read_text()
    assert "fastapi" not in (project / "pyproject.toml").read_text()
    assert not conflict_markers(project), "the update left conflicts"
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
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
