"""JSON answers encoded by pydantic, byte for byte as the FastAPI adapter encodes them.

Flask's `jsonify` would sort keys and escape non-ASCII characters: the bytes would depend on the framework.
"""

from collections.abc import Mapping

from flask import Response
from pydantic import BaseModel

from ..contract.problems import PROBLEM_CONTENT_TYPE, Problem

JSON_CONTENT_TYPE = "application/json"


def json_response(body: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body.model_dump_json(), status=status, headers=headers, content_type=JSON_CONTENT_TYPE)


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    body = problem.model_dump_json()
    return Response(body, status=problem.status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
