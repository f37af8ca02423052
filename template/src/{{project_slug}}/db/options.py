"""Engine options that fit the server: pool size, timeouts, pre-ping, and SQLite's pragmas."""

from pathlib import Path
from typing import Any

from sqlalchemy import URL, make_url

from ..settings import Settings

# Keyword each driver takes for its connect timeout, in seconds.
_CONNECT_TIMEOUT_ARGUMENT = {
    "pysqlite": "timeout",
    "aiosqlite": "timeout",
    "psycopg": "connect_timeout",
    "asyncpg": "timeout",
}


def database_url(settings: Settings) -> URL:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return url


def engine_options(settings: Settings, url: URL) -> dict[str, Any]:
    timeout: int | float = settings.db_connect_timeout
    if url.get_driver_name() == "psycopg":
        timeout = max(1, round(timeout))
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_pre_ping": True,
        "connect_args": {_CONNECT_TIMEOUT_ARGUMENT.get(url.get_driver_name(), "timeout"): timeout},
    }


def tune_sqlite_connection(dbapi_connection: Any, _connection_record: object) -> None:
    """Write-ahead logging lets readers work during writes; SQLite leaves foreign keys off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
