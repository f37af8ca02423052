"""The production server: gunicorn with threaded (gthread) workers, configured from code."""

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.http.message import Request
from gunicorn.workers.base import Worker

from ..logs import logging_config
from ..settings import Settings
from .database import database
from .hooks import DRAIN_LIMIT_BYTES


def run_server(settings: Settings, *, host: str, port: int, workers: int, reload: bool) -> None:
    """Serve until stopped; `reload` restarts the worker when a source file changes (development)."""
    options = {
        "bind": f"{host}:{port}",
        "workers": 1 if reload else workers,
        "worker_class": "gthread",
        # A thread holds at most one connection: as many threads as pooled connections never wait for one.
        "threads": settings.db_pool_size,
        "reload": reload,
        "graceful_timeout": 20,
        # Longer than the front proxy keeps an idle connection (KEEP_ALIVE_TIMEOUT, DEPLOY.md), so that the proxy
        # closes it first. An idle connection holds no thread; it counts towards worker_connections (1,000).
        "keepalive": settings.keep_alive_timeout,
        # A request line of up to 8 KiB, gunicorn's most (its default is 4 KiB) and as much as nginx and most
        # load balancers pass: long query strings are served, not refused with 414.
        "limit_request_line": 8190,
        "accesslog": None,  # the request hooks log each request with its id
        "loglevel": settings.log_level.lower(),
        "logconfig_dict": _log_config(settings),
        "control_socket_disable": True,  # a socket in $HOME that every gunicorn on the machine would share
        "pre_request": _close_after_long_bodies,
    }
    _Gunicorn(settings, options).run()


class _Gunicorn(BaseApplication):
    """gunicorn's programmatic interface: options from code, the app built in each worker.

    A reload forks a new worker from the master, so it sees new code only in modules the master
    has not imported: the app is imported in `load`, but settings and the models (which the
    migration step at start-up loads) keep their code until the command restarts.
    """

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        self.app: Flask | None = None
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        self.cfg.set("worker_exit", self.close_database)

    def load(self) -> Flask:  # type: ignore[override]  # stubs: environ is a MutableMapping, Flask takes a dict
        from .app import create_app  # noqa: PLC0415 (imported in the worker, so that a reload sees new code)

        self.app = create_app(self.settings)
        return self.app

    def close_database(self, _arbiter: Arbiter, _worker: Worker) -> None:
        """Close the exiting worker's database connections (gunicorn calls this in the worker)."""
        if self.app is not None:  # None when the worker failed to load the app
            database(self.app).dispose()


def _log_config(settings: Settings) -> dict[str, Any]:
    """The project's logging configuration, which gunicorn applies in the master and in every worker: its own
    loggers lose the handlers gunicorn gives them and pass their lines on to the root logger's handler."""
    config = logging_config(settings.log_level, settings.log_format)
    config["loggers"]["gunicorn.error"] = {"handlers": [], "propagate": True}
    return config


def _close_after_long_bodies(_worker: Worker, request: Request) -> None:
    """Answer `Connection: close` when the body is longer than the app reads to keep the connection open:
    the client then knows the connection ends with the answer (gunicorn would close it without saying so)."""
    declared = next((value for name, value in request.headers if name == "CONTENT-LENGTH"), "0")
    if declared.isdigit() and int(declared) > DRAIN_LIMIT_BYTES:
        request.must_close = True
