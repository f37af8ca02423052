"""Conventions applied to the OpenAPI document whichever framework generated it."""

from typing import Any

from .problems import PROBLEM_CONTENT_TYPE

OPENAPI_VERSION = "3.1.0"


def apply_conventions(document: dict[str, Any]) -> dict[str, Any]:
    """Error responses are documented as `application/problem+json`, as they are served."""
    document["openapi"] = OPENAPI_VERSION
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
    return document
