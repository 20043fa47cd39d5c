"""Requests too large to look at: a header over 64 KiB is refused with the envelope (431)."""

from __future__ import annotations

from flask import Flask, request

from handlers.web.errors import ApiError

# No credential or header of ours comes near this; API Gateway itself allows 10 KiB in all.
MAX_HEADER_BYTES = 64 * 1024


class HeaderTooLarge(ApiError):
    """431: a header is larger than the service reads."""

    status = 431
    code = "request_header_fields_too_large"


def init_request_limits(app: Flask) -> None:
    """Refuse oversized headers before anything reads them (authentication, rate limiting)."""

    @app.before_request
    def refuse_oversized_headers() -> None:
        for name, value in request.headers.items():
            if len(value) > MAX_HEADER_BYTES:
                raise HeaderTooLarge(f"The {name} header is larger than {MAX_HEADER_BYTES} bytes")
