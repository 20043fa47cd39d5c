"""Domain errors raised by repositories; handlers map them to HTTP answers."""

from __future__ import annotations


class RepositoryError(Exception):
    """Base class of every error a repository raises."""


class NotFound(RepositoryError):
    """The item does not exist (or is not visible to the caller's tenant)."""


class Conflict(RepositoryError):
    """The write would break a uniqueness or state rule."""


class NotAllowed(RepositoryError):
    """The actor may not make this change (checked atomically with the write, or by an account rule)."""


class StoreUnavailable(RepositoryError):
    """DynamoDB throttled, timed out or failed; the caller may retry later."""

    def __init__(self, message: str = "The data store is temporarily unavailable", retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after
