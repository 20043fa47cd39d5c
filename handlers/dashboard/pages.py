"""What every dashboard response shares: the page context, security headers, and errors as pages."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response, render_template, request, url_for

from handlers.dashboard.session import CSRF_FIELD, csrf_token, is_dashboard_path
from handlers.web.context import repositories, request_state
from models.accounts.principal import Principal

STATIC_FOLDER = Path(__file__).resolve().parent / "static"
# Static files are fetched by versioned URLs, so a browser may keep them for a day.
STATIC_MAX_AGE = 24 * 60 * 60

# No inline script or style anywhere: the CSS and JS files are the only ones the pages may load.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}

ERROR_TITLES = {
    400: "That request was not valid",
    403: "You can't do that",
    404: "Page not found",
    405: "That action isn't available here",
    409: "That change was refused",
    413: "That was too large",
    429: "Too many requests",
    503: "Temporarily unavailable",
}


def page_context() -> dict[str, Any]:
    """Variables every dashboard template may use (also for error pages outside the blueprint)."""
    return {
        "user": _session_principal(),
        "csrf_field_name": CSRF_FIELD,
        "csrf_token": csrf_token(),
        "asset_url": asset_url,
    }


def _session_principal() -> Principal | None:
    # Only a dashboard session shows the signed-in navigation (an API credential on a page does not).
    principal = request_state().principal
    return principal if principal is not None and principal.auth == "session" else None


def asset_url(filename: str) -> str:
    """The URL of a static file, versioned by the content of all of them."""
    return url_for("dashboard.static", filename=filename, v=_asset_version())


def display_date(value: str) -> str:
    """The UTC day of an ISO 8601 timestamp, as people read it (``28 Nov 2025``)."""
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%d %b %Y")


def display_clock(value: str) -> str:
    """The UTC time of day of an ISO 8601 timestamp (``13:45 UTC``)."""
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%H:%M UTC")


def finish_dashboard_response(response: Response) -> Response:
    """For paths under /dashboard: JSON error envelopes become pages, and the security headers are added.

    The API's handlers answer every error (ours, Werkzeug's, the rate limiter's) with the JSON
    envelope; reusing them keeps one place that decides statuses and messages, and this turns the
    result into a page for a person. Other paths are left exactly as they are.
    """
    if not is_dashboard_path(request.path):
        return response
    if response.status_code >= 400 and response.mimetype == "application/json":
        _render_error_page(response)
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if not repositories().settings.is_local:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint == "dashboard.static" and response.status_code in (200, 304):
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
    else:
        # Pages show keys, users and CSRF tokens: never kept by a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _render_error_page(response: Response) -> None:
    payload = response.get_json(silent=True)
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    status = response.status_code
    if status == 429:
        wait = response.headers.get("Retry-After", "a few")
        message = f"Too many requests came from your network. Wait {wait} seconds, then try again."
    elif status >= 500:
        message = "Something went wrong on our side. Try again in a moment."
    title = ERROR_TITLES.get(status, "Something went wrong" if status >= 500 else "That request was refused")
    html = render_template(
        "dashboard/error.html", **page_context(), status=status, title=title, message=message or title
    )
    response.set_data(html)
    response.mimetype = "text/html"
    # The Bearer challenge is for API clients; a page has no use for it.
    response.headers.pop("WWW-Authenticate", None)


@cache
def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_FOLDER.glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]
