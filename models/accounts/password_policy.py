"""What a new password must be (NIST SP 800-63B): long enough, printable, not a common password.

The same rule for the API, the dashboard and the CLI. Length is counted in characters after NFKC
normalisation, so a password of combining marks or compatibility forms is measured as typed and
read. The common-password list is zxcvbn's (30,000 passwords from leaked password sets, by
frequency); it is loaded on the first password set, never at import (a cold start does not pay for it).
"""

from __future__ import annotations

import functools
import unicodedata

MIN_LENGTH = 12
MAX_LENGTH = 128


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be set, or None when it may."""
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(normalised) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if not normalised.strip():
        return "must not be only spaces"
    if any(unicodedata.category(char) == "Cc" for char in normalised):
        return "must not contain control characters"
    if normalised.casefold() in _common_passwords():
        return "is one of the most common passwords; choose another"
    return None


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(password.casefold() for password in FREQUENCY_LISTS["passwords"])
