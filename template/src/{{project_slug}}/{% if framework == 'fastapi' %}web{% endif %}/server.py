"""The production server: uvicorn, with uvloop and httptools from `uvicorn[standard]`."""

import logging
from typing import Any

import uvicorn
from fastapi import FastAPI

from ..logs import logging_config
from ..settings import Settings

logger = logging.getLogger(__name__)


def run_server(settings: Settings, *, host: str, port: int, workers: int, reload: bool) -> None:
    uvicorn.run(
        f"{__name__}:build_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_config=_log_config(settings),
        access_log=False,  # the request middleware logs each request with its id
        log_level=settings.log_level.lower(),
        # Not uvicorn's reading of X-Forwarded-For: the app reads it where it needs the client's address, as
        # it does behind gunicorn, which leaves the peer's address alone.
        proxy_headers=False,
        timeout_graceful_shutdown=20,
        # Longer than the front proxy keeps an idle connection (KEEP_ALIVE_TIMEOUT, DEPLOY.md), so that the proxy
        # closes it first.
        timeout_keep_alive=settings.keep_alive_timeout,
        # The supervisor kills a worker that misses a health ping for this long (default 5 s): a worker still
        # importing its app on a busy host would be killed and restarted forever.
        timeout_worker_healthcheck=30,
    )


def build_app() -> FastAPI:
    """The app, built in each server process (so that a reload sees new code). A failure ends the process,
    logged with its traceback: uvicorn would print the traceback as plain lines."""
    try:
        from .app import create_app  # noqa: PLC0415 (imported in the server process, see above)

        return create_app()
    except Exception:
        logger.exception("the app could not be built")
        raise SystemExit(1) from None


def _log_config(settings: Settings) -> dict[str, Any]:
    """The project's logging configuration, which uvicorn applies in every process it starts (those of the
    workers and the reloader's server start afresh): its loggers pass their lines on to the root logger's handler."""
    config = logging_config(settings.log_level, settings.log_format)
    # uvicorn says which change makes it reload; watchfiles would add a line for every change it sees.
    config["loggers"]["watchfiles"] = {"level": "WARNING"}
    return config
