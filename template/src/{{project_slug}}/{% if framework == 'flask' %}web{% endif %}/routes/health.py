from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from ...contract.health import Liveness, Readiness
from ...db.engine import ping
from ..database import database
from ..responses import json_response

blueprint = APIBlueprint("health", __name__, url_prefix="/health", abp_tags=[Tag(name="health")])


@blueprint.get("/live", responses={200: Liveness})
def get_liveness() -> Response:
    """The process is up."""
    return json_response(Liveness())


@blueprint.get("/ready", responses={200: Readiness})
def get_readiness() -> Response:
    """The service can reach its database (503 otherwise)."""
    ping(database().engine)
    return json_response(Readiness())
