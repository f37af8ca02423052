"""What the API accepts and answers about tokens."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..fields import WITHOUT_NUL, RequestBody


class TokenForm(BaseModel):
    """The OAuth2 password grant (RFC 6749 section 4.3.2), as Swagger UI's Authorize button sends it.

    Parameters the service does not use (`client_id`, ...) are ignored, as section 3.2 requires.
    """

    model_config = ConfigDict(extra="ignore")

    grant_type: Annotated[str | None, Field(pattern="^password$")] = None
    username: Annotated[str, Field(description="The user's e-mail address", pattern=WITHOUT_NUL)]
    password: str
    scope: str = ""


class RefreshRequest(RequestBody):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: Annotated[int, Field(description="Seconds until the access token expires")]
    refresh_token: str
