"""The OpenAPI document, and Swagger UI and ReDoc pages with their assets inlined from `offapi`: no CDN."""

from typing import Any

from flask import Response
from flask_openapi3.openapi import OpenAPI
from offapi import OpenAPITemplate
from pydantic_core import to_json

from ..openapi import apply_conventions
from .responses import JSON_CONTENT_TYPE


def install_docs(app: OpenAPI, openapi_url: str = "/openapi.json") -> None:
    """Serve the document and its pages; call it once every route is registered."""
    document = to_json(openapi_document(app))
    swagger_page = OpenAPITemplate.SWAGGER.value.format(spec_url=openapi_url)
    redoc_page = OpenAPITemplate.REDOC.value.format(spec_url=openapi_url)
    app.add_url_rule(openapi_url, "openapi", lambda: Response(document, content_type=JSON_CONTENT_TYPE))
    app.add_url_rule("/docs", "swagger_ui", lambda: swagger_page)
    app.add_url_rule("/redoc", "redoc", lambda: redoc_page)


def openapi_document(app: OpenAPI) -> dict[str, Any]:
    """flask-openapi3's document of `app`, written as FastAPI writes its own, with the shared conventions.

    Two differences are removed. flask-openapi3 keeps null values (`"securitySchemes": null`, which
    OpenAPI forbids, and `"default": null` of optional fields); FastAPI leaves them out. And it documents
    a validation error (422) on every operation, while an operation without parameters or body cannot
    fail validation: FastAPI documents none there.
    """
    document: dict[str, Any] = _without_nulls(app.api_doc)
    for operations in document["paths"].values():
        for operation in operations.values():
            if "parameters" not in operation and "requestBody" not in operation:
                del operation["responses"]["422"]
    return apply_conventions(document)


def _without_nulls(value: Any) -> Any:
    """A deep copy of a JSON value without the object members whose value is null."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
