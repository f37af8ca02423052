from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from ...db.engine import ping
from ...domain.schemas import Liveness, Readiness
from ..database import database
from ..responses import json_response

blueprint = APIBlueprint("health", __name__, url_prefix="/health", abp_tags=[Tag(name="health")])


@blueprint.get("/live", responses={200: Liveness})
def live() -> Response:
    """The process is up."""
    return json_response(Liveness())


@blueprint.get("/ready", responses={200: Readiness})
def ready() -> Response:
    """The service can reach its database (503 otherwise)."""
    ping(database().engine)
    return json_response(Readiness())
