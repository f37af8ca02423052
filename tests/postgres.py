"""A throwaway PostgreSQL server on loopback, for the generated projects that use PostgreSQL.

Set TEST_POSTGRES_URL (a superuser URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres) to use
a server you run; otherwise one is started from Debian's postgresql package in a temporary directory.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .ports import free_port

# The SQLAlchemy scheme a generated project uses for PostgreSQL, by its db_style answer.
DRIVERS = {"sync": "postgresql+psycopg", "async": "postgresql+asyncpg"}


class PostgresServer:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def create_database(self, db_style: str) -> str:
        """A new, empty database; its URL with the driver of a project of that db_style."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", self.admin_url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        server = self.admin_url.rsplit("/", 1)[0].replace("postgresql", DRIVERS[db_style], 1)
        return f"{server}/{name}"


def postgres_available() -> bool:
    installed = glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb")
    return bool(os.environ.get("TEST_POSTGRES_URL") or installed)


def _binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        raise RuntimeError("PostgreSQL is not installed: `apt-get install postgresql` (or set TEST_POSTGRES_URL)")
    return str(found[-1])


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the `postgres` account when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield PostgresServer(url)
        return
    # Not under pytest's temporary directory: every pytest run (the generated projects' included) makes
    # that private to root again, and the server, which runs as `postgres`, would lose its data.
    workdir = Path(tempfile.mkdtemp(prefix="template-tests-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    try:
        with _running_server(workdir) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _running_server(workdir: Path) -> Iterator[PostgresServer]:
    data = workdir / "pgdata"
    port = free_port()
    subprocess.run(
        _as_postgres_user([_binary("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    pg_ctl = [_binary("pg_ctl"), "-D", str(data)]
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_postgres_user([*pg_ctl, "-o", options, "-l", str(workdir / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run(_as_postgres_user([*pg_ctl, "-m", "fast", "stop"]), check=False, capture_output=True)
