"""The one JSON error envelope, for our errors and for every library's."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from handlers.web.context import request_state
from models.mfa import UndecryptableSecret
from models.store.errors import Conflict, NotAllowed, NotFound, StoreUnavailable

log = logging.getLogger(__name__)

REALM = "nativemessage"

# Werkzeug status codes mapped to our machine codes.
HTTP_CODES = {
    400: "invalid_request",
    401: "invalid_token",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    431: "request_header_fields_too_large",
    503: "unavailable",
}


# A login whose password was right, for an account with two-factor on, that gave no code.
MFA_REQUIRED = "mfa_required"
# A login or refresh whose credential was right, of a user without two-factor in a tenant that requires it.
MFA_ENROLLMENT_REQUIRED = "mfa_enrollment_required"
# A stored TOTP secret that the current key cannot decrypt (MFA_ENCRYPTION_KEY changed): no code can be checked.
MFA_UNAVAILABLE = "mfa_unavailable"
# Seconds a client is told to wait then: the key stays wrong until an operator puts the right one back.
MFA_UNAVAILABLE_RETRY_AFTER = 300


class ApiError(Exception):
    """An error answered with the envelope: status, machine code, human message."""

    status = 400
    code = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}


class InvalidRequest(ApiError):
    """400: the request is malformed or fails validation."""


class Unauthorized(ApiError):
    """401: no usable credential (code ``invalid_token`` or ``invalid_credentials``)."""

    status = 401
    code = "invalid_token"


class Forbidden(ApiError):
    """403: authenticated, but not allowed to do this."""

    status = 403
    code = "insufficient_scope"


class ResourceNotFound(ApiError):
    """404: nothing here for this caller."""

    status = 404
    code = "not_found"


class ResourceConflict(ApiError):
    """409: the request conflicts with the current state."""

    status = 409
    code = "conflict"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build the envelope response; every 401 gets a ``WWW-Authenticate: Bearer`` challenge."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = bearer_challenge(code, message)
    return response


def bearer_challenge(code: str, message: str) -> str:
    """An RFC 6750 challenge; the error attributes only when a credential was presented and failed."""
    if code in ("missing_credentials", "invalid_credentials", MFA_REQUIRED):
        # A wrong username or (current) password is no fault of a token: error="invalid_token" would
        # tell a client holding a good access token (POST /me/password) to throw it away.
        return f'Bearer realm="{REALM}"'
    description = message.replace('"', "'")
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'


def _sentence(message: str) -> str:
    # Domain errors are lower-case clauses ("the key was revoked meanwhile"); answers are sentences.
    return message[:1].upper() + message[1:]


def register_error_handlers(app: Flask) -> None:
    """Route every error the app can raise through the envelope."""

    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers)

    @app.errorhandler(NotFound)
    def handle_not_found(exc: NotFound) -> Response:
        return error_response(404, "not_found", str(exc) or "Not found")

    @app.errorhandler(Conflict)
    def handle_conflict(exc: Conflict) -> Response:
        return error_response(409, "conflict", str(exc) or "Conflict")

    @app.errorhandler(NotAllowed)
    def handle_not_allowed(exc: NotAllowed) -> Response:
        return error_response(403, "insufficient_scope", _sentence(str(exc) or "Not allowed"))

    @app.errorhandler(StoreUnavailable)
    def handle_store_unavailable(exc: StoreUnavailable) -> Response:
        log.warning("data store unavailable: %r", exc.__cause__)
        return error_response(
            503,
            "unavailable",
            "The service is temporarily unavailable; retry later",
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.errorhandler(UndecryptableSecret)
    def handle_undecryptable_secret(exc: UndecryptableSecret) -> Response:
        # Error level: every two-factor user is locked out until the key is fixed. The message names
        # the user, never the secret; no trace, which would add nothing but AES-GCM's frames.
        log.error(
            "two-factor codes cannot be checked: %s (was MFA_ENCRYPTION_KEY changed?)",
            exc,
            extra={"fields": {"request_id": request_state().request_id or None}},
        )
        return error_response(
            503,
            MFA_UNAVAILABLE,
            "Two-factor codes cannot be checked right now; please contact support",
            headers={"Retry-After": str(MFA_UNAVAILABLE_RETRY_AFTER)},
        )

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = HTTP_CODES.get(status, "internal_error" if status >= 500 else "invalid_request")
        headers = {}
        valid_methods = getattr(exc, "valid_methods", None)
        if status == 405 and valid_methods:
            headers["Allow"] = ", ".join(sorted(valid_methods))
        message = exc.description or exc.name
        if status == 429:
            message = f"Rate limit exceeded ({message}); retry after the number of seconds in Retry-After"
        return error_response(status, code, message, headers=headers)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        # The trace goes to the log, never to the client.
        log.exception("unhandled error")
        return error_response(500, "internal_error", "An unexpected error occurred")
