"""Shared fixtures: render the template fast, and find the tools the checks run."""

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import copier
import pytest

from .combinations import Answers
from .postgres import PostgresServer, postgres_server

REPO = Path(__file__).resolve().parent.parent
TEMPLATE_FILES = ["copier.yml", "hooks", "template"]
PROJECT_NAME = "Acme Inventory"
SLUG = "acme_inventory"


def tool(name: str) -> str:
    """A command installed beside this interpreter (the dev environment), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: install the template's dev dependencies (see README)")
    return found


def run(command: list[str | Path], cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)


def python_for(version: str) -> str:
    """An interpreter of that version for uv (it cannot download one on these machines)."""
    found = run([tool("uv"), "python", "find", "--no-project", version])
    if found.returncode != 0:
        pytest.fail(f"no Python {version} on this machine (uv cannot download one here): {found.stderr}")
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


def render(template_source: Path, destination: Path, answers: Answers) -> Path:
    copier.run_copy(
        str(template_source),
        destination,
        data={"project_name": PROJECT_NAME, **answers},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    return destination


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server
