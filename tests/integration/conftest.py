"""Fixtures shared by the Lambda tests: a provisioned production-like stack on moto's server."""

from __future__ import annotations

import secrets

import boto3
import pytest

from tests.integration.lambda_runner import PASSWORD, lambda_env
from tests.integration.servers import check_cli


@pytest.fixture(scope="module")
def provisioned(endpoint: str) -> dict[str, str]:
    """The SSM secret, the tables, tenants acme (200/min) and tiny (2/min), an admin in each."""
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    ssm.put_parameter(Name="/nativemessage/production/jwt-secret", Value=secrets.token_urlsafe(48), Type="SecureString")
    env = {
        **lambda_env(endpoint),
        "APP_ENV": "production",
        "JWT_SECRET_SSM_PARAMETER": "/nativemessage/production/jwt-secret",
    }
    check_cli(env, "db", "init")
    check_cli(env, "tenants", "create", "acme")
    check_cli(env, "tenants", "create", "tiny", "--rate-limit", "2")
    for tenant in ("acme", "tiny"):
        check_cli(env, "users", "create", "--tenant", tenant, "--username", f"admin@{tenant}", "--role", "admin",
                  "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    return env
