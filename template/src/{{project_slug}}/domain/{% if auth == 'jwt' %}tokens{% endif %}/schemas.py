"""What the API accepts and answers about tokens."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..fields import WITHOUT_NUL, RequestBody


class TokenForm(BaseModel):
    """The OAuth2 password grant (RFC 6749 section 4.3.2), as Swagger UI's Authorize button sends it.

    Parameters the service does not use (`client_id`, ...) are ignored, as section 3.2 requires.
    """

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "grant_type": "password",
                    "username": "ada@example.com",
                    "password": "correct horse battery",
                    "scope": "",
                },
            ],
        },
    )

    grant_type: Annotated[str | None, Field(pattern="^password$")] = None
    # Swagger UI fills a form's fields in from their own examples.
    username: Annotated[
        str, Field(description="The user's e-mail address", pattern=WITHOUT_NUL, examples=["ada@example.com"])
    ]
    password: Annotated[str, Field(examples=["correct horse battery"])]
    scope: str = ""


class RefreshRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "k2ZxR7tqY9vQ0aWcJ4mN8sLh3pXe6uBd1fGi5oTy_Ak"}]},
    )

    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenPair(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                    "eyJzdWIiOiIxIiwiaWF0IjoxODAxMzg3ODAwLCJleHAiOjE4MDEzODg3MDAsImp0aSI6IjliMmY2YzFlMGQzYTRiOGM5ZTdmNWEyZDFjMGIzZTRmIn0."
                    "YQV2kBKDPBPxxP9cYVIvS5hLMJjGIsIvsqIhgr1EuTo",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "k2ZxR7tqY9vQ0aWcJ4mN8sLh3pXe6uBd1fGi5oTy_Ak",
                },
            ],
        },
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: Annotated[int, Field(description="Seconds until the access token expires")]
    refresh_token: str
