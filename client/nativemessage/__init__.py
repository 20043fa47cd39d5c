"""The NativeMessage API's Python client: ``Client`` (sync) and ``AsyncClient``.

It does what the public authentication page advises: credentials from the environment, API keys for
servers, access tokens renewed before they expire, exponential backoff with jitter on 429 (never
sooner than Retry-After), and sends retried only under their idempotency key.
"""

from nativemessage.async_client import AsyncClient
from nativemessage.client import Client
from nativemessage.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    Conflict,
    NativeMessageError,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)
from nativemessage.ratelimit import RateLimit
from nativemessage.version import __version__

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "Conflict",
    "NativeMessageError",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RateLimit",
    "RateLimited",
    "ServiceUnavailable",
    "__version__",
]
