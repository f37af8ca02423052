"""A throwaway PostgreSQL server on loopback, for the generated projects that use PostgreSQL.

Set TEST_POSTGRES_URL (a superuser URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres) to use
a server you run; otherwise one is started from Debian's postgresql package in a temporary directory.
A test that stops the server under a service starts one of its own (`local_postgres_server`), never yours.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import urllib.parse
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


class LocalPostgresServer(PostgresServer):
    """A server started here, from its data directory: it can be stopped and started again on the same port
    and data, as an operator (or a crash) would."""

    def __init__(self, admin_url: str, pg_ctl: list[str]) -> None:
        super().__init__(admin_url)
        self._pg_ctl = pg_ctl

    @property
    def port(self) -> int:
        port = urllib.parse.urlsplit(self.admin_url).port
        assert port is not None
        return port

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m MODE`: `fast` ends every session and shuts down cleanly, `immediate` quits at once,
        as a crash would (the next start recovers from the write-ahead log)."""
        subprocess.run(_as_postgres_user([*self._pg_ctl, "-m", mode, "-w", "stop"]), check=True, capture_output=True)

    def start(self) -> None:
        """Start the server (again) and wait until it accepts connections."""
        subprocess.run(_as_postgres_user([*self._pg_ctl, "-w", "start"]), check=True, capture_output=True)


def libpq_url(url: str) -> str:
    """A project's database URL as psql takes it: without the SQLAlchemy driver (`postgresql+psycopg://`)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


def psql(url: str, sql: str) -> str:
    """Run `sql` on the database of `url`; psql's unaligned output."""
    result = subprocess.run(["psql", libpq_url(url), "-tAc", sql], check=True, capture_output=True, text=True)
    return result.stdout.strip()


@contextmanager
def table_locked(url: str, table: str) -> Iterator[None]:
    """An exclusive lock on `table`, which even reads wait for, until the block ends. A prepared transaction
    holds it: no session ends it, not even a server's stop, so the requests waiting for it are still waiting
    when the server goes (and, on a server of ours, `max_prepared_transactions` allows it)."""
    name = f"lock {table}"
    psql(url, f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; PREPARE TRANSACTION '{name}'")
    try:
        yield
    finally:
        psql(url, f"ROLLBACK PREPARED '{name}'")


def postgres_installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"))


def postgres_available() -> bool:
    return bool(os.environ.get("TEST_POSTGRES_URL")) or postgres_installed()


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
    with local_postgres_server() as server:
        yield server


@contextmanager
def local_postgres_server() -> Iterator[LocalPostgresServer]:
    """A server of its own in a temporary directory, whatever TEST_POSTGRES_URL says; removed at exit."""
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
def _running_server(workdir: Path) -> Iterator[LocalPostgresServer]:
    data = workdir / "pgdata"
    port = free_port()
    subprocess.run(
        _as_postgres_user([_binary("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        " -c max_prepared_transactions=10"
    )
    pg_ctl = [_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "log")]
    server = LocalPostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", pg_ctl)
    server.start()
    try:
        yield server
    finally:
        subprocess.run(_as_postgres_user([*pg_ctl, "-m", "fast", "stop"]), check=False, capture_output=True)
