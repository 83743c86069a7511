"""Errors the services raise beyond ValidationError (400) and PermissionDenied (403)."""


class Conflict(Exception):
    """The request is valid but the record's state forbids it now (HTTP 409)."""

    def __init__(self, message: str, field: str = "non_field_errors") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
