"""What the API accepts and answers about sessions."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..fields import WITHOUT_NUL, RequestBody


class LoginRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ada@example.com", "password": "correct horse battery"}]},
    )

    email: Annotated[str, Field(max_length=320, pattern=WITHOUT_NUL)]
    password: Annotated[str, Field(max_length=128)]


class CsrfToken(BaseModel):
    """Send it back in the `X-CSRF-Token` header of every POST, PATCH and DELETE of this session."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"csrf_token": "Qm9vR3hL2cTz8wYv5nA1sD7fK0jH4pE6uX9bN3gI_Rc"}]},
    )

    csrf_token: str
