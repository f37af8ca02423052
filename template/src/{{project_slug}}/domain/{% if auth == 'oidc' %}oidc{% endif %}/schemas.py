"""What the API answers about the caller of an identity provider."""

from pydantic import BaseModel


class IdentityRead(BaseModel):
    """The caller, as the identity provider's token describes it."""

    sub: str
    email: str | None
    name: str | None
