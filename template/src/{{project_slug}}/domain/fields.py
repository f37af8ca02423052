"""Field types shared by the schemas of every resource: each is checked the same way on every database."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

# PostgreSQL's text cannot hold the NUL character (U+0000): a text the service stores or looks up refuses it
# (422) on every database, so that a SQLite and a PostgreSQL project take the same input.
WITHOUT_NUL = r"^[^\x00]*$"

MAX_ID = 2**31 - 1  # the largest value a 32-bit integer column holds

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Int32 = Annotated[int, Field(ge=-MAX_ID - 1, le=MAX_ID)]

# An amount of money, as a NUMERIC(12, 2) column stores it: at most 9 999 999 999.99, to the cent.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False),
    # Exact in Python and in the database; a JSON number on the wire (12.50 is written 12.5). A float holds
    # every amount of 12 digits exactly, so the number read back is the amount stored.
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01}),
]


class RequestBody(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
