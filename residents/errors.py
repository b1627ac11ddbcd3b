"""Domain errors of the residents app: the message is a Chinese sentence for the user."""

from __future__ import annotations


class ResidentError(Exception):
    """Bad input or a refused change; nothing was written. ``field`` names the form field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
