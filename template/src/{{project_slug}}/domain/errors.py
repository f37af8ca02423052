"""The errors a service raises on purpose. Each names the HTTP status the web adapters answer it with, as
an RFC 9457 problem whose detail is the error's message."""


class DomainError(Exception):
    status = 400

    @property
    def headers(self) -> dict[str, str]:
        """What the answer carries besides the problem, such as `Retry-After`."""
        return {}


class NotFoundError(DomainError):
    """What the caller asked for does not exist, or is not theirs to see (404)."""

    status = 404

    def __init__(self, resource: str, identifier: object) -> None:
        super().__init__(f"{resource} {identifier} does not exist.")


class ConflictError(DomainError):
    """The request would duplicate something that must be unique, or remove something still in use (409)."""

    status = 409


class InvalidReferenceError(DomainError):
    """A field of the body names a row that does not exist for the caller: a 422 that names the field."""

    status = 422

    def __init__(self, field: str, resource: str, identifier: object) -> None:
        super().__init__(f"{resource} {identifier} does not exist.")
        self.field = field
