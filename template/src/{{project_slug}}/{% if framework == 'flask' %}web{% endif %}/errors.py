"""Every error becomes an RFC 9457 problem response, as in the FastAPI adapter."""

import logging

from flask import Flask, Response
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..domain.errors import NotFoundError
from ..problems import problem, validation_problem
from .hooks import UNDECLARED_METHODS
from .responses import problem_response
from .validation import RequestValidationError

logger = logging.getLogger(__name__)


def install_error_handlers(app: Flask) -> None:
    """Routing errors, aborts and crashes (Flask wraps those in InternalServerError) are HTTPExceptions."""
    app.register_error_handler(RequestValidationError, _on_validation_error)
    app.register_error_handler(HTTPException, _on_http_error)
    app.register_error_handler(NotFoundError, _on_not_found)
    # Connection failures surface as OperationalError, or as OSError (refused, timed out) from some drivers.
    app.register_error_handler(OperationalError, _on_database_unavailable)
    app.register_error_handler(OSError, _on_database_unavailable)


def _on_validation_error(error: RequestValidationError) -> Response:
    return problem_response(validation_problem(error.errors))


def _on_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, MethodNotAllowed):
        allowed = sorted(set(error.valid_methods or ()) - UNDECLARED_METHODS)
        return problem_response(problem(status), headers={"Allow": ", ".join(allowed)})
    return problem_response(problem(status))


def _on_not_found(error: NotFoundError) -> Response:
    return problem_response(problem(404, str(error)))


def _on_database_unavailable(error: Exception) -> Response:
    logger.error("database unavailable: %r", error)
    return problem_response(problem(503), headers={"Retry-After": "5"})
