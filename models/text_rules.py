"""What free text the service stores may contain: no control characters, no bidi overrides, not blank.

Bidi embedding, override and isolate characters reorder how text is displayed: in a key's name or a
message they can make a listing show something other than what is stored (the "Trojan Source" trick).
"""

from __future__ import annotations

import unicodedata

# U+202A..U+202E (embeddings, overrides) and U+2066..U+2069 (isolates).
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Line breaks and tabs belong in a message body; no other control character does.
BODY_WHITESPACE = frozenset("\t\n\r")


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name (one line of text), or None."""
    return _problem(value, allowed_controls=frozenset())


def body_problem(value: str) -> str | None:
    """Why ``value`` cannot be a message body (lines of text), or None."""
    return _problem(value, allowed_controls=BODY_WHITESPACE)


def _problem(value: str, *, allowed_controls: frozenset[str]) -> str | None:
    if not value.strip():
        return "must not be blank"
    for char in value:
        if char in BIDI_CONTROLS:
            return f"must not contain the bidi control character U+{ord(char):04X}"
        if unicodedata.category(char) == "Cc" and char not in allowed_controls:
            return f"must not contain the control character U+{ord(char):04X}"
    return None
