"""Pages of a collection: the query that asks for one, and the `Link` header of the answer.

The links are relative URIs (RFC 8288), as `Location` is: every adapter writes the same bytes, whatever
host name or proxy the request came through.
"""

from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from ..domain.fields import MAX_ID
from ..domain.pages import Page


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=MAX_ID)
    per_page: int = Field(default=20, ge=1, le=100)


def link_header(path: str, page: Page[Any]) -> str:
    """`first` and `last` always; `prev` and `next` where they exist (past the end, `prev` is the last page)."""
    last = max(1, -(-page.total // page.per_page))
    relations = {"first": 1}
    if page.page > 1:
        relations["prev"] = min(page.page - 1, last)
    if page.page < last:
        relations["next"] = page.page + 1
    relations["last"] = last
    return ", ".join(
        f'<{path}?{urlencode({"page": number, "per_page": page.per_page})}>; rel="{relation}"'
        for relation, number in relations.items()
    )
