"""The one error the API raises for a request it cannot answer: the server replies with
``status`` and ``{"error": message}`` and goes on serving."""

from __future__ import annotations


class RequestError(Exception):
    """A malformed request (400), an unknown path or object (404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
