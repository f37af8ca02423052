"""The users table."""

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, utc_now
from ...db.types import UTCDateTime


class User(Base):
    """Someone who signs in: with an e-mail address and a password, or through an identity provider."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased: the address is unique whatever its case.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(100))
    # argon2id (pwdlib); null for users of an identity provider.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The identity provider's `sub` claim; null for users with a password.
    subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
