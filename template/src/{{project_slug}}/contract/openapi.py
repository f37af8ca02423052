"""The OpenAPI document, the same bytes from every adapter.

Each adapter lets its framework describe the routes (paths, parameters, bodies, schemas, security); then
`finish_document` names and describes every operation from `OPERATIONS` (operations.py), declares its
`TAGS`, and writes the result in one canonical order. A route missing from `OPERATIONS` keeps the name and
words its framework gave it, which differ between frameworks: the project's tests say which to add.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from .problems import PROBLEM_CONTENT_TYPE

OPENAPI_VERSION = "3.1.0"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    tag: str | None
    summary: str
    description: str | None = None
    # Problems that no framework sees the route answer (openapi.UNDECLARED_PROBLEMS): 503 when the database
    # does not answer, for every operation that uses it; 429 of login throttling.
    problems: tuple[str, ...] = ("503",)


def resource_tag(name: str, singular: str, *, owned: bool) -> dict[str, str]:
    """The tag of a resource's operations, e.g. `resource_tag("orders", "order", owned=True)`."""
    if owned:
        description = f"The {_words(name)} of the caller: each {_words(singular)} belongs to its creator."
    else:
        description = f"The {_words(name)}, newest first."
    return {"name": name, "description": description}


def resource_operations(name: str, singular: str) -> dict[str, Operation]:
    """The five operations of a resource (list, create, get, update, delete), named after it."""
    one = f"{'an' if singular[0] in 'aeiou' else 'a'} {_words(singular)}"
    path = f"/{name}"
    item_path = f"{path}/" + "{" + singular + "_id}"
    return {
        f"list_{name}": Operation("get", path, name, f"List {_words(name)}", "Newest first, one page at a time."),
        f"create_{singular}": Operation(
            "post", path, name, f"Create {one}", f"`Location` names the new {_words(singular)}'s URL."
        ),
        f"get_{singular}": Operation("get", item_path, name, f"Get {one}"),
        f"update_{singular}": Operation(
            "patch", item_path, name, f"Update {one}", "Only the fields present in the body change."
        ),
        f"delete_{singular}": Operation("delete", item_path, name, f"Delete {one}"),
    }


def _words(snake_case: str) -> str:
    return snake_case.replace("_", " ")


RESPONSE_DESCRIPTIONS = {
    "200": "OK",
    "201": "Created",
    "204": "No Content",
    "400": "The body is not readable JSON text (not UTF-8, nested too deeply, a number too long)",
    "401": "Missing or invalid credentials",
    "403": "Missing or wrong CSRF token",
    "404": "Not found",
    "409": "Conflict",
    "413": "The body is larger than 1 MiB",
    "422": "Invalid request: `errors` lists every failing field",
    "429": "Too many failed logins for this account or from this client: try again after `Retry-After` seconds",
    "503": "Unavailable for now (a service it depends on does not answer): try again after `Retry-After` seconds",
}
JSON_CONTENT_TYPE = "application/json"
_PROBLEM = {"content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait", "required": True, "schema": {"type": "integer", "minimum": 0}}
}
# The problems the adapters answer around the routes, where no framework sees them: added by `finish_document`.
UNDECLARED_PROBLEMS: dict[str, dict[str, Any]] = {
    "400": _PROBLEM,
    "413": _PROBLEM,
    "429": {**_PROBLEM, "headers": _RETRY_AFTER},
    "503": {**_PROBLEM, "headers": _RETRY_AFTER},
}

METHODS = ("get", "put", "post", "patch", "delete")
# The security schemes of session authentication.
SESSION_COOKIE_SCHEME = "SessionCookie"
CSRF_SCHEME = "CsrfToken"
_INFO_KEYS = ("title", "version", "description")
_RESPONSE_KEYS = ("description", "headers", "content")


def finish_document(
    document: dict[str, Any], operations: Mapping[str, Operation], tags: list[dict[str, str]]
) -> dict[str, Any]:
    """A framework's document of this service, with the shared names and words, in canonical order."""
    names = {(operation.method, operation.path): name for name, operation in operations.items()}
    paths = {}
    for path, generated in sorted(document["paths"].items()):
        paths[path] = {
            method: _operation(method, path, generated[method], names, operations)
            for method in METHODS
            if method in generated
        }
    info = {key: document["info"][key] for key in _INFO_KEYS if key in document["info"]}
    finished = {"openapi": OPENAPI_VERSION, "info": info, "tags": tags, "paths": paths}
    if "components" in document:
        finished["components"] = _canonical(_without_unused_schemas(document["components"], paths))
    return finished


def document_bytes(document: dict[str, Any], indent: int | None = None) -> bytes:
    """The document as served (compact), or as committed to the repository (indented, ending in a newline)."""
    if indent is None:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return (json.dumps(document, ensure_ascii=False, indent=indent) + "\n").encode()


def _operation(
    method: str,
    path: str,
    generated: dict[str, Any],
    names: Mapping[tuple[str, str], str],
    operations: Mapping[str, Operation],
) -> dict[str, Any]:
    name = names.get((method, path))
    shared = operations[name] if name else _framework_words(method, path, generated)
    operation: dict[str, Any] = {"tags": [shared.tag]} if shared.tag else {}
    operation["summary"] = shared.summary
    if shared.description:
        operation["description"] = shared.description
    operation["operationId"] = name or generated.get("operationId", f"{method}_{path}")
    responses = {**generated["responses"], **_undeclared_problems(shared, generated.get("requestBody"))}
    if "security" in generated:
        operation["security"] = _canonical(_session_security(method, generated["security"], responses))
    for key in ("parameters", "requestBody"):
        if key in generated:
            operation[key] = _canonical(generated[key])
    operation["responses"] = {status: _response(status, responses[status]) for status in sorted(responses)}
    return operation


def _framework_words(method: str, path: str, generated: dict[str, Any]) -> Operation:
    """The tag and words the framework gave a route missing from `OPERATIONS`."""
    tags = generated.get("tags") or [None]
    summary = generated.get("summary") or generated.get("operationId", path)
    return Operation(method, path, tags[0], summary, generated.get("description"))


def _session_security(method: str, security: list[dict[str, Any]], responses: dict[str, Any]) -> list[Any]:
    """With a session cookie, what a route enforces: the cookie for every method, and with it the CSRF header
    for those that change state, which may answer 403. (A framework lists the two as alternatives.)"""
    if not any(SESSION_COOKIE_SCHEME in requirement for requirement in security):
        return security
    if method == "get":
        return [{SESSION_COOKIE_SCHEME: []}]
    responses["403"] = _PROBLEM
    return [{SESSION_COOKIE_SCHEME: [], CSRF_SCHEME: []}]


def _undeclared_problems(shared: Operation, request_body: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Those of `UNDECLARED_PROBLEMS` the operation may answer: any body may be too large (413), a JSON body
    may not be JSON text (400), and `OPERATIONS` names the others."""
    body_types = (request_body or {}).get("content", {})
    statuses = list(shared.problems)
    if body_types:
        statuses.append("413")
    if JSON_CONTENT_TYPE in body_types:
        statuses.append("400")
    return {status: UNDECLARED_PROBLEMS[status] for status in statuses}


def _response(status: str, generated: dict[str, Any]) -> dict[str, Any]:
    """Error responses are documented as `application/problem+json`, as they are served; every 422 answers a
    `ValidationProblem`, whatever a framework assumes of a route that does not say."""
    description = RESPONSE_DESCRIPTIONS.get(status) or generated.get("description") or HTTPStatus(int(status)).phrase
    response = {**generated, "description": description}
    content = response.get("content", {})
    if status == "422":
        content = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}}
    elif int(status) >= 400 and JSON_CONTENT_TYPE in content:
        content = {PROBLEM_CONTENT_TYPE: content[JSON_CONTENT_TYPE]}
    if content:
        response["content"] = content
    return {key: _canonical(response[key]) for key in _RESPONSE_KEYS if key in response}


def _without_unused_schemas(components: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """Without the schemas nothing refers to any more, such as FastAPI's own `HTTPValidationError`."""
    schemas = dict(components.get("schemas", {}))
    while unused := {name for name in schemas if f'"#/components/schemas/{name}"' not in json.dumps([paths, schemas])}:
        for name in unused:
            del schemas[name]
    others = {key: value for key, value in components.items() if key != "schemas"}
    return {**others, "schemas": schemas} if schemas else others


def _canonical(value: Any, keep_order: bool = False) -> Any:
    """Keys sorted (but a schema's `properties` keep the model's field order); whole numbers as integers.

    Frameworks write the same schema with its keywords in different orders, and some write `1.0` for `1`.
    """
    if isinstance(value, dict):
        keys = list(value) if keep_order else sorted(value)
        return {key: _canonical(value[key], keep_order=key == "properties" and not keep_order) for key in keys}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
