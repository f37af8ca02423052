from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from ...domain import items
from ...domain.schemas import MAX_ID, ItemCreate, ItemPage, ItemRead, ItemUpdate, PageQuery, Problem, ValidationProblem
from ..database import get_session
from ..responses import json_response, no_content
from ..validation import validated

blueprint = APIBlueprint(
    "items", __name__, url_prefix="/items", abp_tags=[Tag(name="items")], abp_responses={422: ValidationProblem}
)


class ItemPath(BaseModel):
    """The id in an item's URL, validated as the FastAPI adapter's `Path(ge=1, le=MAX_ID)`."""

    item_id: int = Field(ge=1, le=MAX_ID)


@blueprint.get("", responses={200: ItemPage})
@validated
def list_items(query: PageQuery) -> Response:
    """List items, newest first."""
    return json_response(items.list_items(get_session(), page=query.page, per_page=query.per_page))


@blueprint.post("", responses={201: ItemRead})
@validated
def create_item(body: ItemCreate) -> Response:
    item = items.create_item(get_session(), body)
    return json_response(item, 201, headers={"Location": f"/items/{item.id}"})


@blueprint.get("/<item_id>", responses={200: ItemRead, 404: Problem})
@validated
def get_item(path: ItemPath) -> Response:
    return json_response(items.get_item(get_session(), path.item_id))


@blueprint.patch("/<item_id>", responses={200: ItemRead, 404: Problem})
@validated
def update_item(path: ItemPath, body: ItemUpdate) -> Response:
    """Change the fields present in the body; the others keep their values."""
    return json_response(items.update_item(get_session(), path.item_id, body))


@blueprint.delete("/<item_id>", responses={204: None, 404: Problem})
@validated
def delete_item(path: ItemPath) -> Response:
    items.delete_item(get_session(), path.item_id)
    return no_content()
