"""A connection that goes away in the middle of a request (the database restarted, failed over or crashed)
is a 503 problem that asks the client to retry, whichever driver noticed it: never a 500. The pool replaces
the connection, so the next request is served."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
from sqlalchemy import Connection, Engine, event

from .problem_details import assert_database_unavailable


@contextmanager
def connection_lost_at_next_statement() -> Iterator[None]:
    """The next statement that any engine sends finds its connection closed, as after the database dropped it."""

    def close_connection(connection: Connection, *_statement: object) -> None:
        driver_connection = connection.connection.dbapi_connection
        assert driver_connection is not None
        driver_connection.close()

    event.listen(Engine, "before_cursor_execute", close_connection, once=True)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", close_connection)


def test_a_read_that_loses_its_connection_is_a_503_problem(client: httpx2.Client) -> None:
    item = client.post("/items", json={"name": "Lamp", "price": 10}).json()

    with connection_lost_at_next_statement():
        lost = client.get(f"/items/{item['id']}")

    assert_database_unavailable(lost)
    assert client.get(f"/items/{item['id']}").json() == item, "the next request is served on a new connection"


def test_a_write_that_loses_its_connection_is_a_503_problem_and_stores_nothing(client: httpx2.Client) -> None:
    with connection_lost_at_next_statement():
        lost = client.post("/items", json={"name": "Lamp", "price": 10})

    assert_database_unavailable(lost)
    assert client.get("/items").json()["total"] == 0
