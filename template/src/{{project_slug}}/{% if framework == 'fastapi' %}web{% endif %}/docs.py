"""Swagger UI and ReDoc pages with their assets inlined from the `offapi` package: no CDN, works offline."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from offapi import OpenAPITemplate

from ..security_headers import CONTENT_SECURITY_POLICY, docs_policy


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    swagger_page = OpenAPITemplate.SWAGGER.value.format(spec_url=openapi_url)
    redoc_page = OpenAPITemplate.REDOC.value.format(spec_url=openapi_url)

    swagger_headers = {CONTENT_SECURITY_POLICY: docs_policy(swagger_page)}
    redoc_headers = {CONTENT_SECURITY_POLICY: docs_policy(redoc_page)}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger_page, headers=swagger_headers)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return HTMLResponse(redoc_page, headers=redoc_headers)
