"""The app refuses to start without a proper secret outside dev/test, and reads one from SSM."""

from __future__ import annotations

import secrets

import boto3
import pytest

from app import create_app
from config import ConfigError, Settings
from models.store.tables import create_tables
from tests.conftest import PASSWORD, bearer


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_refuses_to_start_without_a_secret(environment):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        create_app({"environment": environment, "jwt_secret_key": None, "jwt_secret_ssm_parameter": None})


def test_refuses_a_short_secret():
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app({"environment": "production", "jwt_secret_key": "x" * 31})


def test_refuses_an_unknown_environment():
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app({"environment": "prod", "jwt_secret_key": "x" * 32})


def test_defaults_to_production_rules_when_app_env_is_unset():
    settings = Settings.from_env({})
    assert settings.environment == "production"
    with pytest.raises(ConfigError):
        settings.validate()


def test_reads_settings_from_the_environment():
    settings = Settings.from_env(
        {
            "APP_ENV": "staging",
            "JWT_SECRET_KEY": "s" * 40,
            "DYNAMODB_TABLE_PREFIX": "nm-staging-",
            "AWS_REGION": "eu-west-1",
        }
    ).validate()
    assert (settings.environment, settings.table_prefix, settings.aws_region) == ("staging", "nm-staging-", "eu-west-1")


def test_secret_is_never_in_the_settings_repr():
    secret = "s" * 40
    assert secret not in repr(Settings(jwt_secret_key=secret))


def test_starts_with_the_ssm_parameter_and_signs_with_its_value(aws):
    secret = secrets.token_urlsafe(48)
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/nativemessage/jwt-secret", Value=secret, Type="SecureString"
    )
    app = create_app(
        {"environment": "production", "jwt_secret_key": None, "jwt_secret_ssm_parameter": "/nativemessage/jwt-secret"}
    )
    services = app.extensions["nativemessage"]
    create_tables(services.db)
    services.tenants.create("acme")
    from models.passwords import hash_password

    services.users.create("acme", "alice", hash_password(PASSWORD), "admin")
    client = app.test_client()

    tokens = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}).get_json()

    import jwt

    assert (
        jwt.decode(tokens["access_token"], secret, algorithms=["HS256"], audience="nativemessage-api")["usr"] == "alice"
    )
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 200


def test_creating_the_app_touches_no_aws(monkeypatch):
    # Import-time and factory work must not reach the network (cold start, and Zappa's import).
    import botocore.client

    def no_calls(*_args, **_kwargs):
        raise AssertionError("AWS was called while building the app")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", no_calls)
    create_app({"environment": "production", "jwt_secret_ssm_parameter": "/nativemessage/jwt-secret"})


def test_dev_secret_is_generated_once_and_kept(tmp_path):
    first = create_app({"environment": "dev", "local_data_dir": tmp_path}).extensions["nativemessage"]
    second = create_app({"environment": "dev", "local_data_dir": tmp_path}).extensions["nativemessage"]
    assert first.signing_secret.get() == second.signing_secret.get()
    assert len(first.signing_secret.get()) >= 32
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600


def test_token_lifetimes_default_to_the_public_pages_promise():
    settings = Settings.from_env({"APP_ENV": "test"}).validate()
    assert (settings.access_token_ttl_seconds, settings.refresh_token_ttl_seconds) == (900, 604800)


def test_token_lifetimes_are_read_from_the_environment():
    settings = Settings.from_env(
        {"APP_ENV": "test", "ACCESS_TOKEN_TTL_SECONDS": "5", "REFRESH_TOKEN_TTL_SECONDS": "60"}
    ).validate()
    assert (settings.access_token_ttl_seconds, settings.refresh_token_ttl_seconds) == (5, 60)


@pytest.mark.parametrize(
    ("access", "refresh", "message"),
    [
        ("0", "60", "must be positive"),
        ("5", "-1", "must be positive"),
        ("60", "60", "shorter than REFRESH_TOKEN_TTL_SECONDS"),
        ("900", "600", "shorter than REFRESH_TOKEN_TTL_SECONDS"),
        ("5.5", "60", "ACCESS_TOKEN_TTL_SECONDS must be an integer"),
        ("5", "a week", "REFRESH_TOKEN_TTL_SECONDS must be an integer"),
    ],
)
def test_refuses_token_lifetimes_that_cannot_work(access, refresh, message):
    env = {"APP_ENV": "test", "ACCESS_TOKEN_TTL_SECONDS": access, "REFRESH_TOKEN_TTL_SECONDS": refresh}
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env).validate()


def test_mfa_encryption_key_is_read_validated_and_never_in_the_repr():
    key = "m" * 40
    settings = Settings.from_env({"APP_ENV": "test", "MFA_ENCRYPTION_KEY": key}).validate()
    assert settings.mfa_encryption_key == key
    assert key not in repr(settings)
    with pytest.raises(ConfigError, match="MFA_ENCRYPTION_KEY must be at least 32 bytes"):
        Settings.from_env({"APP_ENV": "test", "MFA_ENCRYPTION_KEY": "short"}).validate()
