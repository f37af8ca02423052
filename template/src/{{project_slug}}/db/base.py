"""The declarative base of every model, and what most tables share."""

import importlib
import pkgutil
from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _created_at(context: DefaultExecutionContext) -> datetime:
    """A new row's `updated_at` equals its `created_at`."""
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]  # unannotated in SQLAlchemy
    created_at: datetime = parameters["created_at"]
    return created_at


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_created_at, onupdate=utc_now)


def load_models() -> MetaData:
    """The metadata of every table, once each `models` module of the domain layer is imported.

    Migrations compare it with the database; a resource of the team's is found the same way as the
    template's, with nothing to register.
    """
    from .. import domain  # noqa: PLC0415 (the domain layer imports this module)

    for module in pkgutil.walk_packages(domain.__path__, f"{domain.__name__}."):
        if module.name.rpartition(".")[2] == "models":
            importlib.import_module(module.name)
    return Base.metadata
