"""Settings read once from the environment and validated before the app serves anything."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from limits import parse_many

ENVIRONMENTS = ("production", "staging", "dev", "test")
# Environments where the service may run without an operator-provided signing secret.
LOCAL_ENVIRONMENTS = ("dev", "test")
MIN_SECRET_BYTES = 32

Number = TypeVar("Number", int, float)


class ConfigError(RuntimeError):
    """The environment does not describe a service that may start."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    environment: str = "production"
    jwt_secret_key: str | None = field(default=None, repr=False)
    jwt_secret_ssm_parameter: str | None = None
    jwt_issuer: str = "https://api-message.nativehub.live"
    jwt_audience: str = "nativemessage-api"
    table_prefix: str = "nativemessage-"
    aws_region: str = "us-east-1"
    max_content_length: int = 1024 * 1024
    local_data_dir: Path = Path(".data")
    log_level: str = "INFO"
    # Rate limiting: None means the DynamoDB table ``<prefix>rate_limits``.
    ratelimit_storage_uri: str | None = None
    ratelimit_strategy: str = "fixed-window"
    # Per client IP: requests without valid credentials, and login attempts; failures per username.
    unauthenticated_rate_limit: str = "60/minute"
    login_ip_rate_limit: str = "30/minute"
    login_failure_rate_limit: str = "10 per 15 minutes"
    # Failures per username from every client: past it, each attempt for the username is slowed.
    login_username_failure_ceiling: str = "100 per 15 minutes"
    login_slowdown_seconds: float = 2.0
    # Proxies in front of a plain WSGI server whose X-Forwarded-For may be trusted (0: none).
    trusted_proxy_count: int = 0
    # How long the security audit log keeps an event (DynamoDB's TTL deletes it after).
    audit_retention_days: int = 400
    # Failed logins recorded in the audit log per account per minute (per process); past it they are
    # still refused and counted by the login limits, only not each written down.
    audit_failed_logins_per_minute: int = 5
    # Token lifetimes: the defaults are the public page's promise (15 minutes, 7 days); shorter ones
    # let tests watch a client refresh without waiting a quarter of an hour.
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 7 * 24 * 60 * 60
    # The key material of the TOTP secrets' encryption and the recovery codes' digests (models/mfa.py).
    # None: derived from the signing secret, one secret less to keep; set it to rotate the signing
    # secret without making every enrolled secret unreadable.
    mfa_encryption_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            environment=env.get("APP_ENV", defaults.environment).strip().lower(),
            jwt_secret_key=env.get("JWT_SECRET_KEY") or None,
            jwt_secret_ssm_parameter=env.get("JWT_SECRET_SSM_PARAMETER") or None,
            jwt_issuer=env.get("JWT_ISSUER", defaults.jwt_issuer),
            jwt_audience=env.get("JWT_AUDIENCE", defaults.jwt_audience),
            table_prefix=env.get("DYNAMODB_TABLE_PREFIX", defaults.table_prefix),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or defaults.aws_region,
            max_content_length=_int(env, "MAX_CONTENT_LENGTH", defaults.max_content_length),
            local_data_dir=Path(env.get("LOCAL_DATA_DIR", str(defaults.local_data_dir))),
            log_level=env.get("LOG_LEVEL", defaults.log_level).upper(),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or None,
            ratelimit_strategy=env.get("RATELIMIT_STRATEGY", defaults.ratelimit_strategy),
            unauthenticated_rate_limit=env.get("UNAUTHENTICATED_RATE_LIMIT", defaults.unauthenticated_rate_limit),
            login_ip_rate_limit=env.get("LOGIN_IP_RATE_LIMIT", defaults.login_ip_rate_limit),
            login_failure_rate_limit=env.get("LOGIN_FAILURE_RATE_LIMIT", defaults.login_failure_rate_limit),
            login_username_failure_ceiling=env.get(
                "LOGIN_USERNAME_FAILURE_CEILING", defaults.login_username_failure_ceiling
            ),
            login_slowdown_seconds=_float(env, "LOGIN_SLOWDOWN_SECONDS", defaults.login_slowdown_seconds),
            trusted_proxy_count=_int(env, "TRUSTED_PROXY_COUNT", defaults.trusted_proxy_count),
            audit_retention_days=_int(env, "AUDIT_RETENTION_DAYS", defaults.audit_retention_days),
            audit_failed_logins_per_minute=_int(
                env, "AUDIT_FAILED_LOGINS_PER_MINUTE", defaults.audit_failed_logins_per_minute
            ),
            access_token_ttl_seconds=_int(env, "ACCESS_TOKEN_TTL_SECONDS", defaults.access_token_ttl_seconds),
            refresh_token_ttl_seconds=_int(env, "REFRESH_TOKEN_TTL_SECONDS", defaults.refresh_token_ttl_seconds),
            mfa_encryption_key=env.get("MFA_ENCRYPTION_KEY") or None,
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return a copy with the given fields replaced (used by tests and the factory)."""
        return replace(self, **overrides)

    @property
    def is_local(self) -> bool:
        """True for the dev and test environments."""
        return self.environment in LOCAL_ENVIRONMENTS

    @property
    def is_production(self) -> bool:
        """True only for the production stage (it alone mints ``nmk_live_`` keys)."""
        return self.environment == "production"

    def validate(self) -> Settings:
        """Raise ConfigError unless these settings describe a service that may start."""
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.environment!r}")
        if self.jwt_secret_key is not None and len(self.jwt_secret_key.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"JWT_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes")
        if not self.is_local and not (self.jwt_secret_key or self.jwt_secret_ssm_parameter):
            raise ConfigError(
                f"APP_ENV={self.environment} needs JWT_SECRET_KEY (at least {MIN_SECRET_BYTES} bytes) "
                "or JWT_SECRET_SSM_PARAMETER (an SSM SecureString holding it)"
            )
        if self.mfa_encryption_key is not None and len(self.mfa_encryption_key.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"MFA_ENCRYPTION_KEY must be at least {MIN_SECRET_BYTES} bytes")
        if not self.table_prefix or len(self.table_prefix) > 200:
            raise ConfigError("DYNAMODB_TABLE_PREFIX must be 1 to 200 characters")
        if self.max_content_length <= 0:
            raise ConfigError("MAX_CONTENT_LENGTH must be positive")
        if self.ratelimit_strategy not in ("fixed-window", "sliding-window-counter"):
            raise ConfigError("RATELIMIT_STRATEGY must be fixed-window or sliding-window-counter")
        limits = ("unauthenticated_rate_limit", "login_ip_rate_limit", "login_failure_rate_limit")
        for name in (*limits, "login_username_failure_ceiling"):
            try:
                parse_many(getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"{name.upper()} is not a rate limit such as '30/minute': {exc}") from exc
        if not 0 <= self.login_slowdown_seconds <= 10:
            raise ConfigError("LOGIN_SLOWDOWN_SECONDS must be between 0 and 10")
        if self.trusted_proxy_count < 0:
            raise ConfigError("TRUSTED_PROXY_COUNT must be 0 or more")
        if not 1 <= self.audit_retention_days <= 3650:
            raise ConfigError("AUDIT_RETENTION_DAYS must be between 1 and 3650")
        if self.audit_failed_logins_per_minute < 0:
            raise ConfigError("AUDIT_FAILED_LOGINS_PER_MINUTE must be 0 or more")
        if self.access_token_ttl_seconds <= 0 or self.refresh_token_ttl_seconds <= 0:
            raise ConfigError("ACCESS_TOKEN_TTL_SECONDS and REFRESH_TOKEN_TTL_SECONDS must be positive")
        if self.access_token_ttl_seconds >= self.refresh_token_ttl_seconds:
            # A refresh token that dies first could never be used to renew its access token.
            raise ConfigError("ACCESS_TOKEN_TTL_SECONDS must be shorter than REFRESH_TOKEN_TTL_SECONDS")
        return self

    @property
    def rate_limit_storage(self) -> str:
        """The ``limits`` storage URI: DynamoDB unless ``RATELIMIT_STORAGE_URI`` says otherwise."""
        return self.ratelimit_storage_uri or f"dynamodb://{self.table_prefix}rate_limits"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return _number(env, name, default, int, "an integer")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, float, "a number")


def _number(env: Mapping[str, str], name: str, default: Number, kind: Callable[[str], Number], called: str) -> Number:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be {called}, not {raw!r}") from exc


def local_secret(settings: Settings) -> str:
    """Return the dev/test signing secret, generated once and kept under the local data folder.

    In ``test`` a fresh secret is made per process; in ``dev`` it is stored so that tokens
    survive a restart of ``make run``. Never used outside those two environments.
    """
    if settings.environment == "test":
        return secrets.token_urlsafe(48)
    path = settings.local_data_dir / "jwt-secret"
    if path.exists():
        value = path.read_text().strip()
        if len(value.encode()) >= MIN_SECRET_BYTES:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Created owner-only: the file is as sensitive as the secret in it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
