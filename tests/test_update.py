"""`copier update` keeps a project current, and swaps its web framework while keeping the domain code."""

import os
import shutil
from pathlib import Path

import copier
import pytest
import yaml

from .conftest import PROJECT_NAME, SLUG, run, tool

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
    commit_all(project, "Generated, plus the team's own code")

    copier.run_update(
        project, data={"framework": "flask"}, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True
    )

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["framework"] == "flask"
    assert TEAM_CODE in domain_items.read_text()
    assert "from flask" in (project / "src" / SLUG / "web" / "app.py").read_text()
    assert "fastapi" not in (project / "pyproject.toml").read_text()
    assert not list(project.rglob("*.rej")), "the update left conflicts"
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    tests = run([tool("uv"), "run", "--frozen", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:]
