"""The OpenAPI document, and the Swagger UI and ReDoc pages with their assets (contract/docs.py): no CDN."""

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from ..contract.docs import ASSETS_PATH, IMMUTABLE, find_asset, redoc_page, swagger_ui_page
from ..contract.openapi import document_bytes
from ..contract.security_headers import CONTENT_SECURITY_POLICY, docs_policy


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    @app.get(openapi_url, include_in_schema=False)
    async def openapi() -> Response:
        return Response(document_bytes(openapi_document(app)), media_type="application/json")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return docs_page(swagger_ui_page(openapi_url))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return docs_page(redoc_page(openapi_url))

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        asset = find_asset(name)
        if asset is None:
            raise HTTPException(404)
        return Response(asset.content, media_type=asset.media_type, headers={"Cache-Control": IMMUTABLE})


def docs_page(page: str) -> HTMLResponse:
    return HTMLResponse(page, headers={CONTENT_SECURITY_POLICY: docs_policy(page)})


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The document `app` publishes (app.py builds it once, with the shared conventions)."""
    return app.openapi()
