"""The agent's internal exceptions; each server turns them into its own status codes."""

from __future__ import annotations


class Busy(Exception):
    """Another invocation is in flight (control server: 409)."""


class Stopped(Exception):
    """The agent is shutting down (control server: 503)."""


class RuntimeApiError(Exception):
    """A Runtime API call refused before any state changed (400, 403)."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
