"""The floor: a generated project's own production server, serving a bare hello-JSON app instead of the project.

The benchmark copies this file into a generated project and runs it with the project's Python, in place of
the project's command:

    .venv/bin/python benchmark_floor.py <flask|fastapi> <slug> serve --workers 2 --host ... --port ...

The project's `serve` picks and configures the server (gunicorn gthread for Flask, uvicorn for FastAPI), so
the floor runs with the generated workers, threads and every other server option; only the application the
server loads is replaced, by one that answers GET /health/live with {"status": "ok"}. What the generated
stack costs is then a ratio to this floor. Standard library and the project's dependencies only.
"""

import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

HELLO = {"status": "ok"}


def create_fastapi_app() -> Any:
    from fastapi import FastAPI  # each framework is installed only in its own projects

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return HELLO

    return app


def create_flask_app() -> Any:
    from flask import Flask

    app = Flask(__name__)

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return HELLO

    return app


def serve_floor_with_uvicorn() -> None:
    """uvicorn imports the app by name in each worker process: name this module's factory instead."""
    import uvicorn

    run = uvicorn.run

    def run_floor(_app: object, **options: Any) -> None:
        run(f"{Path(__file__).stem}:create_fastapi_app", **{**options, "factory": True})

    uvicorn.run = run_floor


def serve_floor_with_gunicorn() -> None:
    """gunicorn asks its application object for the WSGI callable in each worker (forked from this process)."""
    from gunicorn.app.base import BaseApplication

    # The bare WSGI callable, not the Flask object: a worker_exit hook of the project may clean up after
    # the Flask app it finds there, and the floor has none of the project's state to clean up.
    floor = create_flask_app().wsgi_app
    BaseApplication.wsgi = lambda _self: floor


def main() -> int:
    framework, slug, *arguments = sys.argv[1:]
    {"fastapi": serve_floor_with_uvicorn, "flask": serve_floor_with_gunicorn}[framework]()
    (command,) = entry_points(group="console_scripts", name=slug)
    status: int = command.load()(arguments)
    return status


if __name__ == "__main__":
    sys.exit(main())
