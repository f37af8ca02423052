"""The generated services under test: render them from the current checkout, install them, serve them as
production does (and their floors), and fill their database."""

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.combinations import Answers
from tests.conftest import SLUG, copy_template, render
from tests.credentials import sign_in
from tests.postgres import PostgresServer
from tests.servers import ServerFailed, serving

from . import BenchmarkError

AUTH = "jwt"
PYTHON_VERSION = "3.13"
SERVERS = {"flask": "gunicorn gthread", "fastapi": "uvicorn"}
FLOOR_FILE = Path(__file__).with_name("floor.py")
SEED_ITEMS = 200
SEED_CONNECTIONS = 8
START_TIMEOUT_SECONDS = 300  # a busy machine may take minutes to start a server of 2 workers: wait, not fail


@dataclass(frozen=True)
class Variant:
    name: str  # as the results show it: "Flask-sync"
    framework: str
    db_style: str
    database: str

    @property
    def key(self) -> str:
        return f"{self.name.lower()}-{self.database}"

    @property
    def server(self) -> str:
        return SERVERS[self.framework]

    @property
    def answers(self) -> Answers:
        return {
            "framework": self.framework,
            "db_style": self.db_style,
            "database": self.database,
            "auth": AUTH,
            "python_version": PYTHON_VERSION,
        }


VARIANTS = [
    Variant(name, framework, db_style, database)
    for database in ("sqlite", "postgresql")
    for name, framework, db_style in (
        ("Flask-sync", "flask", "sync"),
        ("FastAPI-sync", "fastapi", "sync"),
        ("FastAPI-async", "fastapi", "async"),
    )
]


def dev_tool(name: str) -> str:
    """A command of the template's dev environment (beside this interpreter), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise BenchmarkError(f"`{name}` is not installed: install the template's dev dependencies (see README)")
    return found


def find_python(version: str) -> str:
    found = subprocess.run(
        [dev_tool("uv"), "python", "find", "--no-project", version], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise BenchmarkError(f"the services run on Python {version}: `uv python install {version}`")
    return found.stdout.strip()


def check(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        raise BenchmarkError(f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout


def install(variants: list[Variant], workdir: Path, python: str) -> dict[Variant, Path]:
    """Render each variant from the working tree, in parallel processes (Copier's rendering is CPU-bound), and
    install each with `uv sync` as soon as it is rendered."""
    source = copy_template(workdir / "template")
    env = {**os.environ, "UV_PYTHON": python}
    command = [dev_tool("uv"), "sync", "--quiet"]
    syncs = {}
    with ProcessPoolExecutor() as pool:
        renders = {pool.submit(render, source, workdir / variant.key, variant.answers): variant for variant in variants}
        for rendered in as_completed(renders):
            syncs[renders[rendered]] = subprocess.Popen(
                command, cwd=rendered.result(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
    for variant, sync in syncs.items():
        _, errors = sync.communicate()
        if sync.returncode != 0:
            raise BenchmarkError(f"`uv sync` of {variant.key} failed:\n{errors[-3000:]}")
    return {variant: workdir / variant.key for variant in variants}


def production_environment(variant: Variant, project: Path, postgres: PostgresServer | None) -> dict[str, str]:
    """The environment a deployment gives the service, its database migrated. Everything else (pool sizes,
    log level, ...) keeps its generated default."""
    env = {"APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32)}
    if variant.database == "postgresql":
        if postgres is None:
            raise BenchmarkError(f"{variant.key} needs a PostgreSQL server")
        env["DATABASE_URL"] = postgres.create_database(variant.db_style)
        migrate = [str(project / ".venv" / "bin" / SLUG), "db", "upgrade"]
        migrated = subprocess.run(migrate, cwd=project, env={**os.environ, **env}, capture_output=True, text=True)
        check(migrated, f"`{SLUG} db upgrade` of {variant.key}")
    return env


@contextmanager
def serve_variant(variant: Variant, project: Path, env: dict[str, str], workers: int) -> Iterator[str]:
    """The generated production command, as the image runs it: `<slug> serve`."""
    command = [str(project / ".venv" / "bin" / SLUG), "serve", "--workers", str(workers)]
    with _serving(variant.key, project, command, env) as base_url:
        yield base_url


@contextmanager
def serve_floor(variant: Variant, project: Path, env: dict[str, str], workers: int) -> Iterator[str]:
    """The same command, serving a bare hello-JSON app (see floor.py)."""
    shutil.copy(FLOOR_FILE, project / "benchmark_floor.py")
    python = str(project / ".venv" / "bin" / "python")
    command = [python, "benchmark_floor.py", variant.framework, SLUG, "serve", "--workers", str(workers)]
    with _serving(f"the floor of {variant.server}", project, command, env) as base_url:
        yield base_url


@contextmanager
def _serving(what: str, project: Path, command: list[str], env: dict[str, str]) -> Iterator[str]:
    try:
        with serving(project, command, env, timeout=START_TIMEOUT_SECONDS) as base_url:
            yield base_url
    except ServerFailed as error:
        log = project / "server.log"
        raise BenchmarkError(f"{what}: {error}\n{log.read_text()[-3000:] if log.exists() else ''}") from None


def seed(base_url: str) -> tuple[str, int]:
    """Sign in and store SEED_ITEMS items, a few requests at a time: the access token, and one item's id."""
    with httpx.Client(base_url=base_url, timeout=30) as client, ThreadPoolExecutor(SEED_CONNECTIONS) as pool:
        token = sign_in(client, AUTH)["access_token"]
        ids = list(pool.map(lambda number: create_item(client, number), range(SEED_ITEMS)))
    return token, ids[len(ids) // 2]


def create_item(client: httpx.Client, number: int) -> int:
    created = client.post("/items", json={"name": f"item {number}", "price": number + 0.5})
    if created.status_code != httpx.codes.CREATED:
        raise BenchmarkError(f"seeding failed: POST /items answered {created.status_code}: {created.text}")
    item_id: int = created.json()["id"]
    return item_id


VERSIONS = """
import importlib.metadata, json, platform, sys
found = {name: importlib.metadata.version(name) for name in sys.argv[1:]}
print(json.dumps({"python": platform.python_version(), **found}))
"""
PACKAGES = {"flask": ["flask", "gunicorn", "sqlalchemy"], "fastapi": ["fastapi", "uvicorn", "sqlalchemy"]}


def versions(variant: Variant, project: Path) -> dict[str, str]:
    """The Python and the main packages the variant's environment runs."""
    command = [str(project / ".venv" / "bin" / "python"), "-c", VERSIONS, *PACKAGES[variant.framework]]
    found: dict[str, str] = json.loads(check(subprocess.run(command, capture_output=True, text=True), "python -c"))
    return found
