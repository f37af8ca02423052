"""RFC 9457 problem details: the error bodies of the API, built the same way by every adapter."""

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict

PROBLEM_CONTENT_TYPE = "application/problem+json"

# RFC 9110 names; older Pythons still carry the RFC 7231 phrases for these.
_RFC_9110_TITLES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}

GENERIC_DETAILS: dict[int, str] = {
    400: "The request could not be understood.",
    404: "No resource lives at this URL.",
    405: "This resource does not support the request's method.",
    413: "The request body is larger than the service accepts.",
    422: "The request is not valid; see `errors`.",
    500: "The service met an unexpected error; the request id identifies it in the logs.",
    503: "The service cannot reach its database right now; try again shortly.",
}


class Problem(BaseModel):
    """An RFC 9457 problem details document."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "Item 42 does not exist.",
                },
            ],
        },
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str


class FieldError(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "loc": ["body", "price"],
                    "msg": "Input should be greater than or equal to 0",
                    "type": "greater_than_equal",
                },
            ],
        },
    )

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "The request is not valid; see `errors`.",
                    "errors": [
                        {
                            "loc": ["body", "price"],
                            "msg": "Input should be greater than or equal to 0",
                            "type": "greater_than_equal",
                        },
                    ],
                },
            ],
        },
    )

    errors: list[FieldError]


def title_of(status: int) -> str:
    return _RFC_9110_TITLES.get(status) or HTTPStatus(status).phrase


def problem(status: int, detail: str | None = None) -> Problem:
    return Problem(
        title=title_of(status),
        status=status,
        detail=detail or GENERIC_DETAILS.get(status, HTTPStatus(status).description),
    )


def validation_problem(errors: Iterable[Mapping[str, Any]]) -> ValidationProblem:
    """A 422 problem listing every failing field; submitted values are never echoed back."""
    return ValidationProblem(
        title=title_of(422),
        status=422,
        detail=GENERIC_DETAILS[422],
        errors=[_field_error(error) for error in errors],
    )


def _field_error(error: Mapping[str, Any]) -> FieldError:
    loc: Sequence[str | int] = error["loc"]
    if error["type"] == "json_invalid":
        loc = loc[:1]
    return FieldError(loc=list(loc), msg=error["msg"], type=error["type"])
