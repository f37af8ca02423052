class DomainError(Exception):
    """Base class of the errors a service raises on purpose."""


class NotFoundError(DomainError):
    def __init__(self, resource: str, identifier: object) -> None:
        super().__init__(f"{resource} {identifier} does not exist.")
        self.resource = resource
        self.identifier = identifier
