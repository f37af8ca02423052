"""The production server: uvicorn, with uvloop and httptools from `uvicorn[standard]`."""

import uvicorn

from ..settings import Settings


def run_server(settings: Settings, *, host: str, port: int, workers: int, reload: bool) -> None:
    uvicorn.run(
        f"{__package__}.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        access_log=False,  # the request middleware logs each request with its id
        log_level=settings.log_level.lower(),
        # Not uvicorn's reading of X-Forwarded-For: the app reads it where it needs the client's address, as
        # it does behind gunicorn, which leaves the peer's address alone.
        proxy_headers=False,
        timeout_graceful_shutdown=20,
        # The supervisor kills a worker that misses a health ping for this long (default 5 s): a worker still
        # importing its app on a busy host would be killed and restarted forever.
        timeout_worker_healthcheck=30,
    )
