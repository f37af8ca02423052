"""The failed logins, kept for the throttling window."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, utc_now
from ...db.types import UTCDateTime


class LoginFailure(Base):
    """A failed login: in the database, so that every worker process of the service counts the same failures."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # As the client typed it, normalised: an address that has no account is throttled too.
    email: Mapped[str] = mapped_column(String(320), index=True)
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
