"""The `Link` header of a page of items (RFC 8288): where its first, previous, next and last pages are.

The links are relative URIs, as `Location` is: every adapter writes the same bytes, whatever host name or
proxy the request came through.
"""

from urllib.parse import urlencode

from .domain.schemas import ItemPage


def link_header(path: str, page: ItemPage) -> str:
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
