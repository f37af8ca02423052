"""Request validation that reports like FastAPI: every invalid input of a request in one 422.

A view declares its inputs as pydantic models in parameters named `path`, `query` and `body`;
flask-openapi3 reads them to document the operation. It would validate them too, but it stops at
the first invalid location and reports malformed JSON as a model error. So `validated` does the
validation itself, and marks the view for flask-openapi3 to leave it alone.
"""

import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, get_type_hints

from flask import Response, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from .hooks import MAX_BODY_BYTES

# flask-openapi3 calls a view carrying this attribute (set to True) with the raw URL values.
_DELAYED_VALIDATION = "__delay_validate_request__"

# The inputs a view can declare, in the order FastAPI reports their errors.
LOCATIONS = ("path", "query", "body")

_NO_BODY = object()

View = Callable[..., Response]


class RequestValidationError(Exception):
    """Inputs of the request are invalid; `errors` lists them all, as pydantic describes errors."""

    def __init__(self, errors: list[Mapping[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def validated(view: View) -> View:
    """Call `view` with its `path`, `query` and `body` models, or raise RequestValidationError."""
    hints = get_type_hints(view)
    models: dict[str, type[BaseModel]] = {location: hints[location] for location in LOCATIONS if location in hints}

    @wraps(view)
    def validate_then_call(**path_values: str) -> Response:
        # The body is read first: malformed JSON is reported on its own, as FastAPI does.
        received = {
            "body": _body() if "body" in models else _NO_BODY,
            "path": path_values,
            "query": _query_values(models["query"]) if "query" in models else {},
        }
        arguments: dict[str, BaseModel] = {}
        errors: list[Mapping[str, Any]] = []
        for location, model in models.items():
            value = received[location]
            if value is _NO_BODY:
                errors.append({"type": "missing", "loc": (location,), "msg": "Field required", "input": None})
                continue
            try:
                arguments[location] = model.model_validate(value, from_attributes=True)
            except ValidationError as error:
                errors.extend({**details, "loc": (location, *details["loc"])} for details in error.errors())
        if errors:
            raise RequestValidationError(errors)
        return view(**arguments)

    setattr(validate_then_call, _DELAYED_VALIDATION, True)
    return validate_then_call


def _body() -> object:
    """The body as FastAPI hands it to a model: parsed if JSON, else raw bytes (which no model accepts)."""
    raw = request.get_data()
    if len(raw) > MAX_BODY_BYTES:  # sent without Content-Length: werkzeug read one byte past the limit
        raise RequestEntityTooLarge
    if not raw:
        return _NO_BODY
    if not request.is_json:
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        problem = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([problem]) from error
    except (ValueError, RecursionError) as error:  # not UTF-8, nested too deeply, an integer too long
        raise BadRequest from error


def _query_values(model: type[BaseModel]) -> dict[str, object]:
    """The query string as FastAPI hands it to a model: the last of repeated values, unknown names included."""
    names = {field.alias or name for name, field in model.model_fields.items()}
    values: dict[str, object] = {}
    for name, given in request.args.lists():
        values[name] = given[-1] if name in names or len(given) == 1 else given
    return values
