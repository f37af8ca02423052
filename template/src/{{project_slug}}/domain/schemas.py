"""Pydantic schemas: what the API accepts and returns, and so what its OpenAPI document says."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

ItemName = Annotated[str, Field(min_length=1, max_length=100)]
ItemDescription = Annotated[str | None, Field(max_length=1000)]
Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class RequestBody(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ItemCreate(RequestBody):
    name: ItemName
    description: ItemDescription = None
    price: Price


def _unadvertised_default(schema: JsonDict) -> None:
    schema.pop("default", None)


class ItemUpdate(RequestBody):
    """A partial update: only the fields present in the request change.

    `name` and `price` may be left out but not set to null; their defaults are never
    applied (services read `model_dump(exclude_unset=True)`), so the schema omits them.
    """

    name: ItemName = Field(default="", json_schema_extra=_unadvertised_default)
    description: ItemDescription = None
    price: Price = Field(default=0.0, json_schema_extra=_unadvertised_default)


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    price: float
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    items: list[ItemRead]
    page: int
    per_page: int
    total: int


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"


class Problem(BaseModel):
    """An RFC 9457 problem details document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    errors: list[FieldError]


MAX_ID = 2**31 - 1  # the largest id a 32-bit integer column holds


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=MAX_ID)
    per_page: int = Field(default=20, ge=1, le=100)
