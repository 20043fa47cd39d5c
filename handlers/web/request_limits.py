"""Requests too large to look at: a header over 64 KiB is refused with the envelope (431)."""

from __future__ import annotations

from flask import Flask, request

from handlers.web.errors import ApiError

# No credential or header of ours comes near this; API Gateway itself allows 10 KiB in all.
MAX_HEADER_BYTES = 64 * 1024
# Where WSGI puts request headers: HTTP_<NAME>, and the two CGI keeps apart.
_HEADER_KEYS = ("HTTP_", "CONTENT_TYPE", "CONTENT_LENGTH")


class HeaderTooLarge(ApiError):
    """431: a header is larger than the service reads."""

    status = 431
    code = "request_header_fields_too_large"


def init_request_limits(app: Flask) -> None:
    """Refuse oversized headers before anything reads them (authentication, rate limiting)."""

    @app.before_request
    def refuse_oversized_headers() -> None:
        # The WSGI environ holds the headers as HTTP_* strings: read there, no Headers object is built.
        for key, value in request.environ.items():
            if isinstance(value, str) and len(value) > MAX_HEADER_BYTES and key.startswith(_HEADER_KEYS):
                name = key.removeprefix("HTTP_").replace("_", "-").title()
                raise HeaderTooLarge(f"The {name} header is larger than {MAX_HEADER_BYTES} bytes")
