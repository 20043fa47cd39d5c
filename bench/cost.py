"""What a million JWT requests cost on AWS (us-east-1), from prices and figures measured here.

Inputs measured in this run: the billed duration of a warm JWT ``GET /me`` through Zappa's real
handler from the unpacked zip (median, rounded up to Lambda's 1 ms billing unit; DynamoDB is moto's
server on loopback, so a real DynamoDB round trip adds a few ms on the requests that write), and the
DynamoDB writes per admitted request with leased permits (bench/leasing.py's 4-process case). Prices
(AWS's public price pages, us-east-1, on-demand, x86; as of 2026-12): Lambda $0.20 per million
requests and $0.0000166667 per GB-second; DynamoDB on-demand $0.625 per million write request
units; API Gateway REST $3.50 per million, HTTP API $1.00 per million, a Lambda function URL no
charge of its own. Memory is the stage's 512 MB (zappa_settings.json).
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import tempfile
import zipfile
from pathlib import Path

from bench.common import ROOT, Figure, median, section

LAMBDA_PER_MILLION = 0.20
LAMBDA_PER_GB_SECOND = 0.0000166667
DYNAMODB_WRITE_PER_MILLION = 0.625
FRONT_DOORS = {"function URL": 0.0, "HTTP API": 1.00, "REST API": 3.50}
TARGET = 0.50
ZIP = ROOT / "dist" / "nativemessage-production.zip"


def run(args: argparse.Namespace) -> list[Figure]:
    section("10. Cost per million JWT requests (model: docs/performance.md)")
    from bench import leasing

    writes = leasing._simulate_in_moto(4, 1.5)["writes_per_admitted"]
    milliseconds = _warm_jwt_request_ms(samples=60 if args.quick else 300)
    memory_gb = json.loads((ROOT / "zappa_settings.json").read_text())["production"]["memory_size"] / 1024
    billed = math.ceil(milliseconds)
    compute = LAMBDA_PER_MILLION + billed / 1000 * memory_gb * LAMBDA_PER_GB_SECOND * 1_000_000
    storage = writes * DYNAMODB_WRITE_PER_MILLION
    print(
        f"   warm JWT GET /me through Zappa's handler: {milliseconds:.2f} ms (billed {billed} ms at {memory_gb:.2f} GB)"
    )
    print(f"   Lambda ${compute:.3f}/M + DynamoDB {writes:.3f} writes x $0.625 = ${storage:.3f}/M")
    costs = {door: compute + storage + price for door, price in FRONT_DOORS.items()}
    for door, cost in costs.items():
        print(f"   behind {door:12s} ${cost:.2f} per million")
    return [
        Figure(
            "Cost per million JWT requests, function URL (REST API for comparison)",
            f"${costs['function URL']:.2f} (REST ${costs['REST API']:.2f})",
            f"<= ${TARGET:.2f}",
            costs["function URL"] <= TARGET,
        )
    ]


def _warm_jwt_request_ms(samples: int) -> float:
    import boto3

    from tests.integration.lambda_events import rest_v1
    from tests.integration.lambda_runner import PASSWORD, lambda_env, lambda_instance, response_json
    from tests.integration.servers import check_cli, moto_server

    with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp, moto_server() as endpoint:
        task = Path(tmp) / "task"
        with zipfile.ZipFile(ZIP) as archive:
            archive.extractall(task)
        ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106  # fmt: skip
        ssm.put_parameter(
            Name="/nativemessage/production/jwt-secret", Value=secrets.token_urlsafe(48), Type="SecureString"
        )
        env = {
            **lambda_env(endpoint),
            "APP_ENV": "production",
            "JWT_SECRET_SSM_PARAMETER": "/nativemessage/production/jwt-secret",
        }
        check_cli(env, "db", "init")
        check_cli(env, "tenants", "create", "acme", "--rate-limit", "1000000")
        check_cli(env, "users", "create", "--tenant", "acme", "--username", "admin@acme", "--role", "admin",
                  "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        run_env = lambda_env(endpoint)
        run_env.pop("PYTHONPATH")
        with lambda_instance(task, run_env) as instance:
            login = instance.invoke(
                rest_v1("POST", "/api/v1/auth/login", body={"username": "admin@acme", "password": PASSWORD})
            )
            headers = {"Authorization": f"Bearer {response_json(login)['access_token']}"}
            event = rest_v1("GET", "/api/v1/me", headers=headers)
            times = []
            for _ in range(samples):
                response, seconds = instance.invoke_timed(event)
                assert response["statusCode"] == 200
                times.append(seconds * 1000)
    return median(times[len(times) // 10 :])  # the first tenth warms the process up
