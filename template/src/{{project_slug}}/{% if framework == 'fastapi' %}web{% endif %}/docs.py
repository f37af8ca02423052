"""The OpenAPI document, and Swagger UI and ReDoc pages with their assets inlined from `offapi`: no CDN."""

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from offapi import OpenAPITemplate

from ..openapi import document_bytes


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    swagger_page = OpenAPITemplate.SWAGGER.value.format(spec_url=openapi_url)
    redoc_page = OpenAPITemplate.REDOC.value.format(spec_url=openapi_url)

    @app.get(openapi_url, include_in_schema=False)
    async def openapi() -> Response:
        return Response(document_bytes(openapi_document(app)), media_type="application/json")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger_page)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return HTMLResponse(redoc_page)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The document `app` publishes (app.py builds it once, with the shared conventions)."""
    return app.openapi()
