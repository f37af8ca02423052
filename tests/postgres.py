"""A throwaway PostgreSQL server on loopback, for the generated projects that use PostgreSQL.

Set TEST_POSTGRES_URL (a superuser URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres) to use
a server you run; otherwise one is started from Debian's postgresql package in a temporary directory.
"""

import glob
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .ports import free_port


class PostgresServer:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def create_database(self) -> str:
        """A new, empty database; its URL without a driver (add `+psycopg` or `+asyncpg`)."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", self.admin_url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"


def _binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        raise RuntimeError("PostgreSQL is not installed: `apt-get install postgresql` (or set TEST_POSTGRES_URL)")
    return str(found[-1])


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the `postgres` account when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server(workdir: Path) -> Iterator[PostgresServer]:
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield PostgresServer(url)
        return
    data = workdir / "pgdata"
    workdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        workdir.chmod(0o755)
        for parent in workdir.parents:
            if parent.stat().st_mode & 0o001 == 0:
                parent.chmod(parent.stat().st_mode | 0o001)
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
