"""Every error becomes an RFC 9457 problem response."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from ..contract.problems import PROBLEM_CONTENT_TYPE, Problem, problem, validation_problem
from ..domain.errors import DomainError, InvalidReferenceError

logger = logging.getLogger(__name__)

# The methods a route may declare; HEAD comes with GET (middleware.py), OPTIONS is never allowed.
DECLARABLE_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_CONTENT_TYPE


def problem_response(body: Problem, headers: dict[str, str] | None = None) -> ProblemResponse:
    return ProblemResponse(body.model_dump(), status_code=body.status, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method the URL supports, as RFC 9110 asks of a 405 (Starlette names only its first route's)."""
    routes: list[BaseRoute] = request.app.router.routes
    allowed = [
        method
        for method in DECLARABLE_METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
    if "GET" in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, error: RequestValidationError) -> ProblemResponse:
        return problem_response(validation_problem(error.errors()))

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException) -> ProblemResponse:
        headers = {"Allow": allowed_methods(request)} if error.status_code == 405 else None
        return problem_response(problem(error.status_code), headers)

    @app.exception_handler(InvalidReferenceError)
    async def on_invalid_reference(_request: Request, error: InvalidReferenceError) -> ProblemResponse:
        field_error = {"loc": ("body", error.field), "msg": str(error), "type": "reference_not_found"}
        return problem_response(validation_problem([field_error]))

    @app.exception_handler(DomainError)
    async def on_domain_error(_request: Request, error: DomainError) -> ProblemResponse:
        return problem_response(problem(error.status, str(error)), error.headers)

    async def on_database_unavailable(_request: Request, error: Exception) -> ProblemResponse:
        logger.error("database unavailable: %r", error)
        return problem_response(problem(503), {"Retry-After": "5"})

    # Connection failures surface as OperationalError, or as OSError (refused, timed out) from some drivers.
    app.add_exception_handler(OperationalError, on_database_unavailable)
    app.add_exception_handler(OSError, on_database_unavailable)
    # Every pooled connection stayed busy for DB_POOL_TIMEOUT seconds: the service is overloaded, not broken.
    app.add_exception_handler(PoolTimeout, on_database_unavailable)
