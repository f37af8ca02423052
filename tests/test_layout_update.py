"""A project generated before v0.2.0 moved the package into a folder per layer updates to the new layout with
the team's edits, files and rows kept (hooks/follow_moves.py carries the edits of moved files).

The template repository holds two releases: v0.1.0, the template as it was at commit 505b3df, and v0.2.0,
this working tree. The project is generated from v0.1.0, edited and used as a team would, then updated.
"""

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, SLUG, copy_template, git, python_for, render, run, tag_release, tool

pytestmark = pytest.mark.deep

LAST_OLD_LAYOUT = "505b3df"
TEAM_RULE = '''

def discounted(price: float, percent: int) -> float:
    """The team's own rule: a price after a discount."""
    return round(price * (100 - percent) / 100, 2)
'''
TEAM_MIGRATION = '''"""Index items by name.

Revision ID: 7ea3f1a90c2b
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7ea3f1a90c2b"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_items_name", "items", ["name"])


def downgrade() -> None:
    op.drop_index("ix_items_name", table_name="items")
'''
TEAM_README_NOTE = "Owned by the Ada team: ask in #inventory before deploying.\n"


@pytest.fixture
def two_releases(tmp_path: Path) -> Path:
    """v0.1.0 as of the last commit of the old layout, then v0.2.0, the working tree."""
    repository = tmp_path / "template"
    repository.mkdir()
    archive = subprocess.run(["git", "archive", LAST_OLD_LAYOUT], cwd=REPO, capture_output=True, check=False)
    assert archive.returncode == 0, f"the template's history must hold {LAST_OLD_LAYOUT}: {archive.stderr!r}"
    subprocess.run(["tar", "-x"], input=archive.stdout, cwd=repository, check=True)
    tag_release(repository, "v0.1.0")
    for entry in repository.iterdir():
        if entry.name != ".git":
            subprocess.run(["rm", "-rf", str(entry)], check=True)
    copy_template(repository)
    return tag_release(repository, "v0.2.0")


def uv_run(project: Path, *command: str) -> str:
    result = run([tool("uv"), "run", *command], cwd=project, env={**os.environ, "UV_PYTHON": python_for("3.13")})
    assert result.returncode == 0, f"`{' '.join(command)}` failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def test_a_project_of_the_old_layout_updates_with_every_edit_kept(two_releases: Path, tmp_path: Path) -> None:
    project = render(str(two_releases), tmp_path / "project", {"python_version": "3.13"}, vcs_ref="v0.1.0")
    package = project / "src" / SLUG
    git(project, "init", "--quiet", "--initial-branch", "main")
    with (package / "domain" / "items.py").open("a") as service:
        service.write(TEAM_RULE)
    (package / "migrations" / "versions" / "2026_12_01_0900_index_items_by_name.py").write_text(TEAM_MIGRATION)
    readme = (project / "README.md").read_text().split("\n", 1)
    (project / "README.md").write_text(f"{readme[0]}\n\n{TEAM_README_NOTE}{readme[1]}")
    uv_run(project, SLUG, "db", "upgrade")
    database = project / "data" / f"{SLUG}.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO items (name, price, created_at, updated_at) VALUES ('Lamp', 19.5, '2026-12-01', '2026-12-01')"
        )
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "The team's edits")
    tables_before = sqlite3.connect(database).execute("SELECT name, price FROM items").fetchall()

    # The post-update step refreshes uv.lock and openapi.json with the uv a user has on PATH.
    path = f"{Path(tool('uv')).parent}{os.pathsep}{os.environ['PATH']}"
    environment = {**os.environ, "PATH": path, "UV_PYTHON": python_for("3.13")}
    updated = run([tool("copier"), "update", "--trust", "--defaults"], cwd=project, env=environment)

    assert updated.returncode == 0, updated.stderr
    assert (project / "openapi.json").is_file(), f"the update refreshes the document:\n{updated.stderr}"
    assert git(project, "diff", "--name-only", "--diff-filter=U") == "", updated.stderr
    files = git(project, "ls-files", "--cached", "--others", "--exclude-standard").split()
    assert not [name for name in files if (project / name).is_file() and "<<<<<<<" in (project / name).read_text()]
    assert TEAM_RULE in (package / "domain" / "items" / "service.py").read_text()
    assert (package / "db" / "migrations" / "versions" / "2026_12_01_0900_index_items_by_name.py").is_file()
    assert not (package / "migrations").exists()
    assert not (package / "domain" / "items.py").exists()
    assert TEAM_README_NOTE in (project / "README.md").read_text()
    assert "db/migrations" in (project / "pyproject.toml").read_text()

    uv_run(project, SLUG, "db", "upgrade")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT name, price FROM items").fetchall() == tables_before
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("7ea3f1a90c2b",)]
    uv_run(project, "ruff", "check", ".")
    uv_run(project, "ruff", "format", "--check", ".")
    uv_run(project, "mypy", "src", "tests")
    uv_run(project, "pytest", "-q", "-p", "no:cacheprovider")
