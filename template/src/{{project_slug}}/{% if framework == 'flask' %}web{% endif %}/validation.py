"""Request validation that reports like FastAPI: every invalid input of a request in one 422.

A view declares its inputs as pydantic models in parameters named `path`, `query`, `form` and `body`;
flask-openapi3 reads them to document the operation. Its own validation stops at the first invalid
location, where the contract lists every failing field: `validated` validates them all, and marks the view,
as flask-openapi3's own `validate_request` decorator does, for flask-openapi3 to hand it the URL's values.

A view may also declare `principal`: the caller, authenticated (security.py) after the body is read and
before any input is validated. That is FastAPI's order: malformed JSON is a 422 whoever sends it, but an
anonymous request with invalid inputs is a 401.
"""

import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, get_type_hints

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from .hooks import MAX_BODY_BYTES

# flask-openapi3 calls a view carrying this attribute (set to True) with the raw URL values.
_DELAYED_VALIDATION = "__delay_validate_request__"
# The app's function that returns the caller of the current request (security.py registers it).
AUTHENTICATE = "authenticate"

# The inputs a view can declare, in the order FastAPI reports their errors.
LOCATIONS = ("path", "query", "form", "body")

_NO_BODY = object()

View = Callable[..., Response]


class RequestValidationError(Exception):
    """Inputs of the request are invalid; `errors` lists them all, as pydantic describes errors."""

    def __init__(self, errors: list[Mapping[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def validated(view: View) -> View:
    """Call `view` with the caller (if it asks for it) and its input models, or raise RequestValidationError."""
    hints = get_type_hints(view)
    models: dict[str, type[BaseModel]] = {location: hints[location] for location in LOCATIONS if location in hints}

    @wraps(view)
    def validate_then_call(**path_values: str) -> Response:
        # The body is read first: malformed JSON is reported on its own, as FastAPI does.
        received = {
            "body": _body() if "body" in models else _NO_BODY,
            "form": _form(models["form"]) if "form" in models else {},
            "path": path_values,
            "query": _query_values(models["query"]) if "query" in models else {},
        }
        arguments: dict[str, Any] = {}
        if "principal" in hints:
            arguments["principal"] = current_app.extensions[AUTHENTICATE]()
        errors: list[Mapping[str, Any]] = []
        for location, model in models.items():
            value = received[location]
            if value is _NO_BODY:
                errors.append({"type": "missing", "loc": (location,), "msg": "Field required", "input": None})
                continue
            try:
                arguments[location] = model.model_validate(value, from_attributes=True)
            except ValidationError as error:
                # A form is the request's body: FastAPI reports its fields under `body`.
                prefix = "body" if location == "form" else location
                errors.extend({**details, "loc": (prefix, *details["loc"])} for details in error.errors())
        if errors:
            raise RequestValidationError(errors)
        return view(**arguments)

    setattr(validate_then_call, _DELAYED_VALIDATION, True)
    return validate_then_call


def _raw_body() -> bytes:
    """The whole body, or RequestEntityTooLarge."""
    raw = request.get_data()
    if len(raw) > MAX_BODY_BYTES:  # sent without Content-Length: werkzeug read one byte past the limit
        raise RequestEntityTooLarge
    return raw


def _body() -> object:
    """The body as FastAPI hands it to a model: parsed if JSON, else raw bytes (which no model accepts)."""
    raw = _raw_body()
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


def _form(model: type[BaseModel]) -> dict[str, object]:
    """The form as FastAPI hands it to a form model: of a repeated field the last value counts, and an empty
    value counts as absent (its default applies); fields the model does not declare are handed over too, for
    the model to ignore or refuse."""
    _raw_body()  # the size limit holds for a body sent without Content-Length too
    names = {field.alias or name for name, field in model.model_fields.items()}
    values: dict[str, object] = {}
    for name, given in request.form.lists():
        if name not in names:
            values[name] = given[0] if len(given) == 1 else given
        elif given[-1] != "":
            values[name] = given[-1]
    return values


def _query_values(model: type[BaseModel]) -> dict[str, object]:
    """The query string as FastAPI hands it to a model: the last of repeated values, unknown names included."""
    names = {field.alias or name for name, field in model.model_fields.items()}
    values: dict[str, object] = {}
    for name, given in request.args.lists():
        values[name] = given[-1] if name in names or len(given) == 1 else given
    return values
