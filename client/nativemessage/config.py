"""Where the client's credentials and base URL come from: arguments first, then the environment.

The public page asks for credentials in environment variables, never in source code: with no
credential argument, ``NATIVEMESSAGE_API_KEY`` is read (and ``NATIVEMESSAGE_BASE_URL`` whenever no
base URL is given). Secrets are kept out of every ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from nativemessage.errors import ConfigurationError

ENV_API_KEY = "NATIVEMESSAGE_API_KEY"
ENV_BASE_URL = "NATIVEMESSAGE_BASE_URL"
# The production host of the public page.
DEFAULT_BASE_URL = "https://api-message.nativehub.live"
API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Credentials:
    """The base URL and one credential: an API key, or a username with a password and/or a refresh token."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """``api_key`` or ``password`` or ``refresh_token``: how requests are authenticated."""
        if self.api_key is not None:
            return "api_key"
        return "password" if self.password is not None else "refresh_token"

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username else ""
        return f"Credentials(base_url={self.base_url!r}, kind={self.kind!r}{user})"


def resolve_credentials(
    base_url: str | None = None,
    api_key: str | None = None,
    username: str | None = None,
    password: str | None = None,
    refresh_token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """Credentials from the arguments, falling back to the environment; ConfigurationError if unusable."""
    env = os.environ if environ is None else environ
    url = (base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    url = url.removesuffix(API_PREFIX)  # the API's prefix is the client's business, given or not
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError("base_url must start with http:// or https://")
    if api_key is None and username is None and password is None and refresh_token is None:
        api_key = env.get(ENV_API_KEY) or None
        if api_key is None:
            raise ConfigurationError(f"No credentials: pass api_key=, or username= and password=, or set {ENV_API_KEY}")
    if api_key is not None and (username is not None or password is not None or refresh_token is not None):
        raise ConfigurationError("Pass an API key or a user's credentials, not both")
    if api_key is None and password is not None and username is None:
        raise ConfigurationError("A password needs its username")
    if api_key is None and password is None and refresh_token is None:
        raise ConfigurationError("A username needs its password (or a refresh token)")
    return Credentials(url, api_key, username, password, refresh_token)
