"""The OpenAPI document, and the Swagger UI and ReDoc pages with their assets (contract/docs.py): no CDN."""

import re
from typing import Any

from flask import Flask, Response
from flask_openapi3.openapi import OpenAPI
from pydantic import BaseModel
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule

from ..contract.docs import ASSETS_PATH, IMMUTABLE, find_asset, redoc_page, swagger_ui_page
from ..contract.openapi import document_bytes, finish_document
from ..contract.operations import OPERATIONS, TAGS
from ..contract.security_headers import CONTENT_SECURITY_POLICY, docs_policy
from .responses import JSON_CONTENT_TYPE

HTML_CONTENT_TYPE = "text/html; charset=utf-8"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
UNDOCUMENTED_METHODS = frozenset({"HEAD", "OPTIONS"})
# A variable of a URL rule (`<int:item_id>`), and the JSON Schema type of its converter.
RULE_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
CONVERTER_TYPES = {"int": "integer", "float": "number"}
_DOCUMENT = "openapi"


def install_docs(app: Flask, spec: OpenAPI, openapi_url: str = "/openapi.json") -> None:
    """Serve the document and its pages; call it once every route is registered."""
    app.extensions[_DOCUMENT] = _document(app, spec)
    document = document_bytes(app.extensions[_DOCUMENT])
    app.add_url_rule(openapi_url, "openapi", lambda: Response(document, content_type=JSON_CONTENT_TYPE))
    app.add_url_rule("/docs", "swagger_ui", lambda: _docs_page(swagger_ui_page(openapi_url)))
    app.add_url_rule("/redoc", "redoc", lambda: _docs_page(redoc_page(openapi_url)))
    app.add_url_rule(f"{ASSETS_PATH}/<name>", "docs_asset", _docs_asset)


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document `app` publishes."""
    document: dict[str, Any] = app.extensions[_DOCUMENT]
    return document


def _document(app: Flask, spec: OpenAPI) -> dict[str, Any]:
    """flask-openapi3's document of the app's routes, written as FastAPI writes its own, with the shared
    conventions; a route of a plain Flask blueprint is described by its URL rule and function.

    Four differences are removed. flask-openapi3 keeps null values (`"securitySchemes": null`, which
    OpenAPI forbids, and `"default": null` of optional fields); FastAPI leaves them out. It documents
    a validation error (422) on every operation, while an operation without parameters or body cannot
    fail validation: FastAPI documents none there. It documents forms as `multipart/form-data`, where
    FastAPI documents the url-encoded forms that OAuth2 clients send (both frameworks read both). And it
    drops the schemas' `examples` (see `_with_examples`).
    """
    document: dict[str, Any] = _with_examples(_without_nulls(spec.api_doc))
    for operations in document["paths"].values():
        for operation in operations.values():
            if "parameters" not in operation and "requestBody" not in operation:
                del operation["responses"]["422"]
            content = operation.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in content:
                content[FORM_CONTENT_TYPE] = content.pop("multipart/form-data")
    for rule in app.url_map.iter_rules():
        path = RULE_VARIABLE.sub(r"{\2}", rule.rule)
        for method in sorted((rule.methods or set()) - UNDOCUMENTED_METHODS):
            if method.lower() not in document["paths"].get(path, {}):
                document["paths"].setdefault(path, {})[method.lower()] = _plain_operation(app, rule)
    return finish_document(document, OPERATIONS, TAGS)


def _plain_operation(app: Flask, rule: Rule) -> dict[str, Any]:
    """What a plain Flask route says of itself: its function's name and docstring, its URL's variables."""
    view = app.view_functions[rule.endpoint]
    lines = (view.__doc__ or view.__name__.replace("_", " ").capitalize()).strip().splitlines()
    operation: dict[str, Any] = {"summary": lines[0], "operationId": view.__name__}
    if "." in rule.endpoint:
        operation["tags"] = [rule.endpoint.partition(".")[0]]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": CONVERTER_TYPES.get(converter, "string")}}
        for converter, name in RULE_VARIABLE.findall(rule.rule)
    ]
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {"200": {"description": "OK"}}
    return operation


def _docs_page(page: str) -> Response:
    return Response(page, content_type=HTML_CONTENT_TYPE, headers={CONTENT_SECURITY_POLICY: docs_policy(page)})


def _docs_asset(name: str) -> Response:
    asset = find_asset(name)
    if asset is None:
        raise NotFound
    return Response(asset.content, content_type=asset.media_type, headers={"Cache-Control": IMMUTABLE})


def _without_nulls(value: Any) -> Any:
    """A deep copy of a JSON value without the object members whose value is null."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the `examples` of each schema's model and of its fields, which flask-openapi3 drops:
    it rebuilds every schema as an OpenAPI 3.0 Schema Object, which knows `example` but not JSON Schema's
    `examples` (OpenAPI 3.1's). A schema is named after its model, a model of this package."""
    models = _package_models()
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        if name not in models:
            continue
        written = models[name].model_json_schema()
        if "examples" in written:
            schema["examples"] = written["examples"]
        for field, field_schema in written.get("properties", {}).items():
            if "examples" in field_schema:
                schema["properties"][field]["examples"] = field_schema["examples"]
    return document


def _package_models() -> dict[str, type[BaseModel]]:
    """Every pydantic model defined in this package, by name."""
    package = __name__.partition(".")[0]
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if model.__module__.partition(".")[0] == package:
            found[model.__name__] = model
    return found
