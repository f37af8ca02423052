"""The items routes of the HTTP contract, as a client sees them."""

from datetime import datetime, timedelta

import httpx2
import pytest

PROBLEM_JSON = "application/problem+json"
NEW_ITEM = {"name": "Lamp", "description": "A desk lamp", "price": 19.5}


def create(client: httpx2.Client, **fields: object) -> dict[str, object]:
    response = client.post("/items", json=NEW_ITEM | fields)
    assert response.status_code == 201, response.text
    item: dict[str, object] = response.json()
    return item


def error_fields(response: httpx2.Response) -> list[tuple[list[str | int], str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    return [(error["loc"], error["type"]) for error in response.json()["errors"]]


def test_create_returns_the_item_and_its_location(client: httpx2.Client) -> None:
    response = client.post("/items", json=NEW_ITEM)

    assert response.status_code == 201
    item = response.json()
    assert response.headers["location"] == f"/items/{item['id']}"
    assert {key: item[key] for key in NEW_ITEM} == NEW_ITEM
    assert datetime.fromisoformat(item["created_at"]).utcoffset() == timedelta(0)
    assert item["updated_at"] == item["created_at"]


def test_get_returns_a_created_item(client: httpx2.Client) -> None:
    item = create(client)

    response = client.get(f"/items/{item['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == item


def test_missing_item_is_a_404_problem(client: httpx2.Client) -> None:
    response = client.get("/items/999")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Item 999 does not exist.",
    }


def test_list_pages_newest_first(client: httpx2.Client) -> None:
    names = [create(client, name=f"item {number}")["name"] for number in range(5)]

    first = client.get("/items", params={"page": 1, "per_page": 2}).json()
    last = client.get("/items", params={"page": 3, "per_page": 2}).json()
    beyond = client.get("/items", params={"page": 4, "per_page": 2}).json()

    assert [item["name"] for item in first["items"]] == names[:2:-1][:2]
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    assert [item["name"] for item in last["items"]] == [names[0]]
    assert beyond["items"] == []
    assert beyond["total"] == 5


def test_list_defaults_to_twenty_per_page(client: httpx2.Client) -> None:
    body = client.get("/items").json()

    assert body == {"items": [], "page": 1, "per_page": 20, "total": 0}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"page": 0}, [(["query", "page"], "greater_than_equal")]),
        ({"per_page": 0}, [(["query", "per_page"], "greater_than_equal")]),
        ({"per_page": 101}, [(["query", "per_page"], "less_than_equal")]),
        ({"page": "x", "per_page": "y"}, [(["query", "page"], "int_parsing"), (["query", "per_page"], "int_parsing")]),
    ],
)
def test_list_rejects_bad_paging(client: httpx2.Client, params: dict[str, str | int], expected: list[object]) -> None:
    assert error_fields(client.get("/items", params=params)) == expected


def test_patch_changes_only_the_given_fields(client: httpx2.Client) -> None:
    item = create(client)

    response = client.patch(f"/items/{item['id']}", json={"price": 25})

    assert response.status_code == 200
    updated = response.json()
    assert updated["price"] == 25
    assert updated["name"] == item["name"]
    assert updated["description"] == item["description"]
    assert updated["updated_at"] >= item["updated_at"]
    assert client.get(f"/items/{item['id']}").json() == updated


def test_patch_can_clear_the_description_but_not_the_name(client: httpx2.Client) -> None:
    item = create(client)

    cleared = client.patch(f"/items/{item['id']}", json={"description": None})
    rejected = client.patch(f"/items/{item['id']}", json={"name": None})

    assert cleared.json()["description"] is None
    assert error_fields(rejected) == [(["body", "name"], "string_type")]


def test_patch_of_a_missing_item_is_a_404(client: httpx2.Client) -> None:
    assert client.patch("/items/999", json={"price": 1}).status_code == 404


def test_delete_removes_the_item(client: httpx2.Client) -> None:
    item = create(client)

    response = client.delete(f"/items/{item['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/items/{item['id']}").status_code == 404
    assert client.delete(f"/items/{item['id']}").status_code == 404


def test_every_failing_field_is_listed(client: httpx2.Client) -> None:
    response = client.post("/items", json={"name": "", "price": -1, "colour": "red"})

    assert sorted(error_fields(response)) == [
        (["body", "colour"], "extra_forbidden"),
        (["body", "name"], "string_too_short"),
        (["body", "price"], "greater_than_equal"),
    ]


def test_missing_fields_are_reported(client: httpx2.Client) -> None:
    assert error_fields(client.post("/items", json={})) == [
        (["body", "name"], "missing"),
        (["body", "price"], "missing"),
    ]


def test_submitted_values_are_not_echoed(client: httpx2.Client) -> None:
    secret = "s3cret-value-that-must-not-leak"

    response = client.post("/items", json={"name": "x" * 101, "price": secret})

    assert response.status_code == 422
    assert secret not in response.text
    assert "x" * 101 not in response.text


def test_malformed_json_is_a_422(client: httpx2.Client) -> None:
    response = client.post("/items", content=b'{"name": ', headers={"content-type": "application/json"})

    assert error_fields(response) == [(["body"], "json_invalid")]


def test_a_non_numeric_id_is_a_422(client: httpx2.Client) -> None:
    assert error_fields(client.get("/items/abc")) == [(["path", "item_id"], "int_parsing")]


def test_an_id_beyond_the_column_is_a_422(client: httpx2.Client) -> None:
    assert error_fields(client.get(f"/items/{2**31}")) == [(["path", "item_id"], "less_than_equal")]


def test_bodies_over_one_mebibyte_are_refused(client: httpx2.Client) -> None:
    response = client.post("/items", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
