"""``make load``: locust, headless, against gunicorn on DynamoDB Local, on loopback only, for a bounded time.

3 tenants at 200 requests a minute, 30 users, 60 seconds (``--users``, ``--seconds``). Reports p50,
p95 and p99 latency, requests per second, the count of 5xx answers (must be 0) and the most any
tenant's window admitted (must be <= its limit). Exit status 1 when either check fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import secrets
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.common import ROOT

TENANTS = ("north", "south", "east")
LIMIT = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)

    from tests.dynamodb_local import dynamodb_local, unavailable_reason
    from tests.integration.servers import check_cli, gunicorn_server, service_env

    reason = unavailable_reason()
    if reason:
        print(f"load: {reason}", file=sys.stderr)
        return 1
    password = secrets.token_urlsafe(18)
    with dynamodb_local() as endpoint, tempfile.TemporaryDirectory(prefix="load-") as tmp:
        env = service_env(endpoint)
        check_cli(env, "db", "init")
        for tenant in TENANTS:
            check_cli(env, "tenants", "create", tenant, "--rate-limit", str(LIMIT))
            check_cli(env, "users", "create", "--tenant", tenant, "--username", f"admin@{tenant}", "--role", "admin",
                      "--password-stdin", stdin=password + "\n")  # fmt: skip
        with gunicorn_server(env, workers=args.workers) as server:
            prefix, tally = Path(tmp) / "stats", Path(tmp) / "tally.json"
            locust_env = {**env, "LOAD_TENANTS": ",".join(TENANTS), "LOAD_PASSWORD": password, "LOAD_TALLY": str(tally)}
            print(f"load: {args.users} users over {len(TENANTS)} tenants for {args.seconds} s on {server.base_url}")
            subprocess.run(
                [str(ROOT / ".venv" / "bin" / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"),
                 "--headless", "--users", str(args.users), "--spawn-rate", str(args.users),
                 "--run-time", f"{args.seconds}s", "--host", server.base_url, "--csv", str(prefix),
                 "--only-summary", "--loglevel", "WARNING"],
                env=locust_env, cwd=ROOT, check=False, timeout=args.seconds + 120,
            )  # fmt: skip
            return report(prefix, tally)


def report(prefix: Path, tally_path: Path) -> int:
    """Print the figures and the two checks; 0 when both hold."""
    with open(f"{prefix}_stats.csv") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    tally = json.loads(tally_path.read_text())
    total = rows["Aggregated"]
    server_errors = sum(count for status, count in tally["statuses"].items() if status.startswith("5"))
    per_tenant: dict[str, int] = defaultdict(int)
    for key, count in tally["admitted"].items():
        tenant = key.split()[0]
        per_tenant[tenant] = max(per_tenant[tenant], count)
    print("\n| figure | value |\n|---|---|")
    print(f"| requests | {total['Request Count']} ({float(total['Requests/s']):.0f} per second) |")
    print(f"| latency p50 / p95 / p99 | {total['50%']} / {total['95%']} / {total['99%']} ms |")
    print(f"| answers by status | {dict(sorted(tally['statuses'].items()))} |")
    print(f"| 5xx answers | {server_errors} (must be 0) |")
    print(f"| most admitted in one window, per tenant | {dict(per_tenant)} (each must be <= {LIMIT}) |")
    ok = server_errors == 0 and all(count <= LIMIT for count in per_tenant.values())
    print(f"\nload: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
