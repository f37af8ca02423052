"""Every error becomes an RFC 9457 problem response."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from ..domain.errors import NotFoundError
from ..problems import problem, validation_problem
from .responses import ProblemResponse

logger = logging.getLogger(__name__)

# HEAD and OPTIONS are never declared by the API, so never allowed.
DECLARABLE_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method the URL supports, as RFC 9110 asks of a 405 (Starlette names only its first route's)."""
    routes: list[BaseRoute] = request.app.router.routes
    return ", ".join(
        method
        for method in DECLARABLE_METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, error: RequestValidationError) -> ProblemResponse:
        return ProblemResponse(validation_problem(error.errors()).model_dump(), status_code=422)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException) -> ProblemResponse:
        headers = {"Allow": allowed_methods(request)} if error.status_code == 405 else None
        return ProblemResponse(problem(error.status_code).model_dump(), status_code=error.status_code, headers=headers)

    @app.exception_handler(NotFoundError)
    async def on_not_found(_request: Request, error: NotFoundError) -> ProblemResponse:
        return ProblemResponse(problem(404, str(error)).model_dump(), status_code=404)

    async def on_database_unavailable(_request: Request, error: Exception) -> ProblemResponse:
        logger.error("database unavailable: %r", error)
        return ProblemResponse(problem(503).model_dump(), status_code=503, headers={"Retry-After": "5"})

    # Connection failures surface as OperationalError, or as OSError (refused, timed out) from some drivers.
    app.add_exception_handler(OperationalError, on_database_unavailable)
    app.add_exception_handler(OSError, on_database_unavailable)
