"""What the API answers about the caller of an identity provider."""

from pydantic import BaseModel, ConfigDict


class IdentityRead(BaseModel):
    """The caller, as the identity provider's token describes it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sub": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
                    "email": "ada@example.com",
                    "name": "Ada Lovelace",
                },
            ],
        },
    )

    sub: str
    email: str | None
    name: str | None
