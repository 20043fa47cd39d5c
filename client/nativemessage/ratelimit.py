"""Reading a response's rate-limit headers: the standard RateLimit fields or X-RateLimit-*, and Retry-After.

The standard form (draft-ietf-httpapi-ratelimit-headers) is preferred when both are present: its
``t`` counts seconds from the response, so a client whose clock disagrees with the server's still
waits the right time. ``X-RateLimit-Reset`` is a Unix timestamp of the server's clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import NamedTuple

# One item of a structured-field list: a quoted policy name and its ;key=value parameters.
_ITEM = re.compile(r'\s*"(?P<name>(?:[^"\\]|\\.)*)"(?P<params>(?:\s*;\s*[a-z*][a-z0-9_.*-]*(?:=[^;,]*)?)*)\s*(?:,|$)')


class RateLimit(NamedTuple):
    """The limit, what is left of it, and when it resets (Unix seconds), as the last response said."""

    limit: int
    remaining: int
    reset: int


def parse_rate_limit(headers: Mapping[str, str], now: float) -> RateLimit | None:
    """The rate limit a response describes, from either header form; None when it carries neither."""
    standard = _standard(headers, now)
    return standard if standard is not None else _legacy(headers)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait before retrying: Retry-After, else the reset the rate-limit headers give."""
    raw = headers.get("Retry-After")
    if raw is not None:
        seconds = _retry_after_value(raw.strip(), now)
        if seconds is not None:
            return seconds
    described = parse_rate_limit(headers, now)
    if described is not None and described.remaining == 0:
        return max(0.0, described.reset - now)
    return None


def _retry_after_value(raw: str, now: float) -> float | None:
    if raw.isdigit():
        return float(raw)
    try:  # the other form RFC 9110 allows: an HTTP date
        return max(0.0, parsedate_to_datetime(raw).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _standard(headers: Mapping[str, str], now: float) -> RateLimit | None:
    states = _items(headers.get("RateLimit", ""))
    if not states:
        return None
    quotas = _items(headers.get("RateLimit-Policy", ""))
    # Several policies may apply at once: the one with the least left is the one that binds.
    name, state = min(states.items(), key=lambda item: item[1].get("r", math.inf))
    if "r" not in state or "t" not in state:
        return None
    limit = quotas.get(name, {}).get("q")
    if limit is None:
        legacy = _legacy(headers)
        limit = legacy.limit if legacy is not None else None
    if limit is None:
        return None
    return RateLimit(int(limit), int(state["r"]), math.ceil(now + state["t"]))


def _legacy(headers: Mapping[str, str]) -> RateLimit | None:
    try:
        values = [int(headers[f"X-RateLimit-{name}"]) for name in ("Limit", "Remaining", "Reset")]
    except (KeyError, ValueError):
        return None
    return RateLimit(*values)


def _items(field: str) -> dict[str, dict[str, float]]:
    """The items of a structured-field list as {name: {parameter: number}} (non-numbers are skipped)."""
    items: dict[str, dict[str, float]] = {}
    position = 0
    while position < len(field):
        match = _ITEM.match(field, position)
        if match is None or match.end() == position:
            break  # malformed: keep what was read so far
        params: dict[str, float] = {}
        for param in match["params"].split(";")[1:]:
            key, _, value = param.strip().partition("=")
            try:
                params[key] = float(value)
            except ValueError:
                continue
        items[match["name"]] = params
        position = match.end()
    return items
