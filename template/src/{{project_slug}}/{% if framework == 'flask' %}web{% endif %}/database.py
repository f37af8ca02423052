"""The app's database: one engine for the process, one session per request, closed at teardown."""

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..db.engine import create_database_engine, create_session_factory
from ..settings import Settings

_EXTENSION = "database"


@dataclass(frozen=True)
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]

    def dispose(self) -> None:
        """Close every pooled connection: when the process (a test, a server worker) is done with the app."""
        self.engine.dispose()


def init_database(app: Flask, settings: Settings) -> None:
    engine = create_database_engine(settings)
    app.extensions[_EXTENSION] = Database(engine, create_session_factory(engine))
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    """The database of `app`, or of the app handling the current request."""
    found: Database = (app or current_app).extensions[_EXTENSION]
    return found


def get_session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().session_factory()
    session: Session = g.db_session
    return session


def _close_session(_error: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
