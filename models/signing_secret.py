"""The JWT signing secret: from the environment, from SSM (read once per process), or local."""

from __future__ import annotations

import hashlib
import threading

from config import MIN_SECRET_BYTES, ConfigError, Settings, local_secret


class SigningSecret:
    """Resolves the HS256 secret lazily, so importing the app never calls AWS."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._value: str | None = settings.jwt_secret_key
        self._lock = threading.Lock()
        self._fingerprint = ""
        self._fingerprint_of: str | None = None
        if self._value is None and not settings.jwt_secret_ssm_parameter and settings.is_local:
            self._value = local_secret(settings)

    def get(self) -> str:
        """The secret; fetched from SSM on first use when configured that way."""
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._read_ssm()
        return self._value

    @property
    def fingerprint(self) -> str:
        """A short digest of the secret: what caches keyed by it compare (never the secret itself)."""
        value = self.get()
        if self._fingerprint_of != value:
            self._fingerprint = hashlib.sha256(value.encode()).hexdigest()[:16]
            self._fingerprint_of = value
        return self._fingerprint

    def _read_ssm(self) -> str:
        import boto3

        name = self._settings.jwt_secret_ssm_parameter
        client = boto3.client("ssm", region_name=self._settings.aws_region)
        value: str = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"the SSM parameter {name} holds fewer than {MIN_SECRET_BYTES} bytes")
        return value
