"""The exceptions of the client: the API's error envelope as types, and network failures.

None of them holds a request, a response or a header: an exception that travels into a log or a
traceback never carries a password, a token or an API key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class NativeMessageError(Exception):
    """Anything this client raises."""


class ConfigurationError(NativeMessageError, ValueError):
    """The client was given no usable credentials or settings."""


class NetworkError(NativeMessageError):
    """The request failed on the network (after any retries); it may or may not have reached the server."""


class ApiError(NativeMessageError):
    """An error answer of the API: ``{"error": {"code", "message", "details"?}}`` and its status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str | None = None,
        details: list[Any] | None = None,
    ) -> None:
        super().__init__(status, code, message, request_id)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details

    def __str__(self) -> str:
        request = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.status} {self.code}: {self.message}{request}"


class AuthenticationError(ApiError):
    """401: the credential is missing, wrong, expired or revoked (and could not be renewed)."""


class PermissionDenied(ApiError):
    """403: the credential is valid but may not do this."""


class NotFound(ApiError):
    """404: no such resource in the caller's tenant."""


class Conflict(ApiError):
    """409: the request conflicts with the resource's state (e.g. an idempotency key reused with another body)."""


class RetryableError(ApiError):
    """An answer that says "try again later", with the seconds to wait when the server said."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """429: over a rate limit; ``retry_after`` is the seconds until it lets requests through again."""


class ServiceUnavailable(RetryableError):
    """503: the service is temporarily unavailable."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_from_answer(status: int, body: Any, headers: Mapping[str, str], retry_after: float | None = None) -> ApiError:
    """The typed exception of an error answer (its envelope, or the bare status when there is none)."""
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        envelope = {}
    code = str(envelope.get("code") or f"http_{status}")
    message = str(envelope.get("message") or "The server answered without an error envelope")
    details = envelope.get("details") if isinstance(envelope.get("details"), list) else None
    kind = _BY_STATUS.get(status, ApiError)
    request_id = headers.get("X-Request-Id")
    if issubclass(kind, RetryableError):
        return kind(status, code, message, request_id, details, retry_after=retry_after)
    return kind(status, code, message, request_id, details)
