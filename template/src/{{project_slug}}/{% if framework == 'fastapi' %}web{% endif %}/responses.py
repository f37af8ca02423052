from typing import Any

from pydantic_core import to_json
from starlette.responses import JSONResponse

from ..problems import PROBLEM_CONTENT_TYPE


class CompactJSONResponse(JSONResponse):
    """JSON encoded by pydantic-core, byte for byte as every adapter of this service encodes it."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


class ProblemResponse(CompactJSONResponse):
    media_type = PROBLEM_CONTENT_TYPE
