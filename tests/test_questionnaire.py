"""The questions: defaults, non-interactive use, and clear failures that write nothing."""

import os
import sys
from pathlib import Path

import pytest
import yaml
from pytest_copie.plugin import Copie

from .conftest import PROJECT_NAME, run, tool


def copier_copy(template_source: Path, destination: Path, *answers: str, **env: str) -> tuple[int, str]:
    data = [f"--data={answer}" for answer in (f"project_name={PROJECT_NAME}", *answers)]
    result = run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", *data, str(template_source), destination],
        env={**os.environ, **env},
    )
    return result.returncode, result.stdout + result.stderr


def saved_answers(project: Path) -> dict[str, object]:
    answers: dict[str, object] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def test_defaults_make_an_async_fastapi_service(copie: Copie) -> None:
    result = copie.copy(extra_answers={"project_name": "Acme Inventory"})

    assert result.exit_code == 0, result.exception
    assert result.project_dir is not None
    assert (
        saved_answers(result.project_dir).items()
        >= {
            "framework": "fastapi",
            "db_style": "async",
            "database": "sqlite",
            "auth": "jwt",
            "deploy": "compose",
            "ci": "github",
            "python_version": "3.13",
            "project_slug": "acme_inventory",
        }.items()
    )


def test_flask_defaults_to_a_sync_database(copie: Copie) -> None:
    result = copie.copy(extra_answers={"project_name": "Acme Inventory", "framework": "flask"})

    assert result.exit_code == 0, result.exception
    assert result.project_dir is not None
    assert saved_answers(result.project_dir)["db_style"] == "sync"


def test_non_interactive_copy(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(template_source, tmp_path / "svc", "framework=flask", "auth=session")

    assert code == 0, output
    assert saved_answers(tmp_path / "svc")["auth"] == "session"
    assert "uv run acme_inventory serve" in output


@pytest.mark.parametrize(
    ("answer", "question", "message"),
    [
        ("project_slug=Acme", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=1acme", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=acme-inventory", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=flask", "project_slug", "would shadow a module"),
        ("project_slug=json", "project_slug", "would shadow a module"),
        ("project_slug=class", "project_slug", "would shadow a module"),
        ("project_slug=dotenv", "project_slug", "would shadow a module"),  # imported by a dependency only
        ("project_slug=../escape", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=acme/../../escape", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=acme;touch pwned", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=$(id)", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=\u0430cme", "project_slug", "must be a lowercase Python identifier"),  # Cyrillic a
        ("project_slug=acmé", "project_slug", "must be a lowercase Python identifier"),
        ("project_slug=", "project_slug", "must be a lowercase Python identifier"),
        ("project_name=Acme\nInventory", "project_name", "must be one line of text"),
        ("description=two\nlines", "description", "must be one line of text"),
        ("author_name=\x1b[31mred", "author_name", "must be one line of text"),
        ("project_name= ", "project_name", "must not be empty"),
        ("author_email=not-an-email", "author_email", "must be an e-mail address"),
        ("author_email=a@b", "author_email", "must be an e-mail address"),
        ("code_owners=@acme/platform not-an-owner", "code_owners", "must be @user, @org/team or an e-mail"),
        ("python_image=python 3.13", "python_image", "must be an image reference"),
        ("container_registry=registry.acme.example/team:1.0", "container_registry", "without tag"),  # a tag
        ("container_registry=Registry.acme.example/Team", "container_registry", "without tag"),  # capitals
        ("container_registry=acme/team", "container_registry", "without tag"),  # Docker Hub's, without its host
        ("container_registry=registry.acme.example/team/", "container_registry", "without tag"),
        ("container_registry=registry.acme.example/$(id)", "container_registry", "without tag"),
        ("python_version=3.9", "python_version", "Invalid choice"),
        ("database=mysql", "database", "Invalid choice"),
    ],
)
def test_invalid_answer_fails_and_writes_nothing(
    template_source: Path, tmp_path: Path, answer: str, question: str, message: str
) -> None:
    destination = tmp_path / "svc"

    code, output = copier_copy(template_source, destination, answer)

    assert code != 0
    assert f"'{question}'" in output
    assert message in output
    assert list(tmp_path.iterdir()) == [], "nothing may be written, inside the destination or beside it"


def test_flask_with_async_database_is_refused_with_its_reason(template_source: Path, tmp_path: Path) -> None:
    destination = tmp_path / "svc"

    code, output = copier_copy(template_source, destination, "framework=flask", "db_style=async")

    assert code != 0
    assert "Invalid choice for 'db_style'" in output
    assert "fresh event loop" in output
    assert not destination.exists()


def test_copy_without_git_or_uv_still_succeeds_and_says_what_to_do(template_source: Path, tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()

    code, output = copier_copy(template_source, tmp_path / "svc", PATH=str(empty_bin))

    assert code == 0, output
    assert "skipped locking dependencies: `uv` is not installed" in output
    assert "skipped git init: `git` is not installed" in output
    assert (tmp_path / "svc" / "pyproject.toml").is_file()


def test_copy_starts_a_git_repository(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(
        template_source,
        tmp_path / "svc",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        PATH=f"{Path(tool('uv')).parent}{os.pathsep}{os.environ['PATH']}",
    )

    assert code == 0, output
    project = tmp_path / "svc"
    log = run(["git", "log", "--oneline"], cwd=project)
    assert "Generate project from template" in log.stdout
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    assert run(["git", "ls-files", "uv.lock"], cwd=project).stdout.strip() == "uv.lock", output
    current = run([tool("uv"), "lock", "--check", "--offline"], cwd=project)
    assert current.returncode == 0, f"uv.lock is not current (`uv sync --locked` would fail):\n{current.stderr}"


def fake_uv(directory: Path, *, lock_fails: bool = False, python_missing: bool = False) -> str:
    """A PATH whose `uv` answers as a broken installation would; git and the rest stay available."""
    directory.mkdir()
    script = directory / "uv"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = lock ] && {str(lock_fails).lower()}; then echo "error: No solution found" >&2; exit 1; fi\n'
        f'if [ "$1" = python ] && {str(python_missing).lower()}; then echo "error: No interpreter" >&2; exit 2; fi\n'
        "exit 0\n"
    )
    script.chmod(0o755)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


def test_a_failing_lock_says_what_failed_and_how_to_retry(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(template_source, tmp_path / "svc", PATH=fake_uv(tmp_path / "bin", lock_fails=True))

    assert code == 0, output
    assert "locking dependencies failed: `uv lock --quiet` said:\nerror: No solution found" in output
    assert "then run `uv lock --quiet`" in output
    assert "Install uv" not in output


def test_a_missing_python_is_named_with_its_install_command(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(
        template_source, tmp_path / "svc", "python_version=3.12", PATH=fake_uv(tmp_path / "bin", python_missing=True)
    )

    assert code == 0, output
    assert "Python 3.12 (the project's python_version) is not installed" in output
    assert "`uv python install 3.12`" in output
