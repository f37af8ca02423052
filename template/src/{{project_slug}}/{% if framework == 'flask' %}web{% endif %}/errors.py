"""Every error becomes an RFC 9457 problem response, as in the FastAPI adapter."""

import logging

from flask import Flask, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..contract.problems import problem, validation_problem
from ..domain.errors import DomainError, InvalidReferenceError
from .responses import problem_response
from .validation import RequestValidationError

logger = logging.getLogger(__name__)


def install_error_handlers(app: Flask) -> None:
    """Routing errors, aborts and crashes (Flask wraps those in InternalServerError) are HTTPExceptions."""
    app.register_error_handler(RequestValidationError, _on_validation_error)
    app.register_error_handler(HTTPException, _on_http_error)
    app.register_error_handler(InvalidReferenceError, _on_invalid_reference)
    app.register_error_handler(DomainError, _on_domain_error)
    # Connection failures surface as OperationalError, or as OSError (refused, timed out) from some drivers.
    app.register_error_handler(OperationalError, _on_database_unavailable)
    app.register_error_handler(OSError, _on_database_unavailable)
    # Every pooled connection stayed busy for DB_POOL_TIMEOUT seconds: the service is overloaded, not broken.
    app.register_error_handler(PoolTimeout, _on_database_unavailable)


def _on_validation_error(error: RequestValidationError) -> Response:
    return problem_response(validation_problem(error.errors))


def _on_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, MethodNotAllowed):
        return problem_response(problem(status), headers={"Allow": ", ".join(sorted(error.valid_methods or ()))})
    return problem_response(problem(status))


def _on_invalid_reference(error: InvalidReferenceError) -> Response:
    field_error = {"loc": ("body", error.field), "msg": str(error), "type": "reference_not_found"}
    return problem_response(validation_problem([field_error]))


def _on_domain_error(error: DomainError) -> Response:
    return problem_response(problem(error.status, str(error)), headers=error.headers)


def _on_database_unavailable(error: Exception) -> Response:
    logger.error("database unavailable: %r", error)
    return problem_response(problem(503), headers={"Retry-After": "5"})
