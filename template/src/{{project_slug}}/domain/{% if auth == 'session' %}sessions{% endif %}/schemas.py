"""What the API accepts and answers about sessions."""

from typing import Annotated

from pydantic import BaseModel, Field

from ..fields import WITHOUT_NUL, RequestBody


class LoginRequest(RequestBody):
    email: Annotated[str, Field(max_length=320, pattern=WITHOUT_NUL)]
    password: Annotated[str, Field(max_length=128)]


class CsrfToken(BaseModel):
    """Send it back in the `X-CSRF-Token` header of every POST, PATCH and DELETE of this session."""

    csrf_token: str
