"""4. Throughput under gunicorn (2 sync workers, loopback): JWT ``GET /api/v1/me`` vs a bare Flask route.

Both servers are started with ``tests/integration/servers.gunicorn_server`` (same flags, same access
log), side by side, against moto's server with ``RATELIMIT_STORAGE_URI=memory://`` so that our code
is measured rather than the emulator (the tenant's limit is still read from DynamoDB once a minute
per worker). The load generator is in this process: threads sending a bounded number of requests,
one connection each (gunicorn's sync workers close every connection), alternately to each server;
the figure is the ratio of the median requests per second. Loopback only. A third server, the bare
route plus the libraries the service is built on (``bench/bare_server``), shows their own cost.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import ROOT, Figure, interleaved, median, section, spread

TARGET = 0.60
PATH = "/api/v1/me"
THREADS = 8
PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark user in moto


def load(base_url: str, headers: dict[str, str], total: int, threads: int = THREADS) -> tuple[float, int]:
    """Send ``total`` GETs of ``PATH`` from ``threads`` threads; requests per second and non-200 count."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    failures = [0] * threads

    def worker(index: int, count: int) -> None:
        for _ in range(count):
            connection = http.client.HTTPConnection(host, port, timeout=15)
            try:
                connection.request("GET", PATH, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures[index] += 1
            finally:
                connection.close()

    shares = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]
    pool = [threading.Thread(target=worker, args=(i, share)) for i, share in enumerate(shares)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return total / (time.perf_counter() - started), sum(failures)


def worker_cpu_seconds(pids: set[int]) -> float:
    """User and system CPU seconds the processes ``pids`` have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> list[Figure]:
    import requests

    from tests.integration.servers import check_cli, gunicorn_server, moto_server, service_env

    section("4. Throughput: gunicorn, 2 workers, loopback: JWT GET /me vs bare Flask route")
    # moto's server runs in a thread of this process: keep werkzeug's line per request off the terminal.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rounds, per_round = (1, 600) if args.quick else (3, 2000)
    with moto_server() as endpoint:
        env = service_env(endpoint, RATELIMIT_STORAGE_URI="memory://", jwt_secret=secrets.token_urlsafe(48))
        check_cli(env, "db", "init")
        check_cli(env, "tenants", "create", "bench", "--rate-limit", "1000000")
        check_cli(env, "users", "create", "--tenant", "bench", "--username", "bench-user", "--role", "admin",
                  "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        with gunicorn_server(env, workers=2) as ours:
            login = requests.post(
                ours.url("/api/v1/auth/login"), json={"username": "bench-user", "password": PASSWORD}, timeout=30
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            body = requests.get(ours.url(PATH), headers=headers, timeout=10).json()
            bare_env = {**env, "BENCH_ME_JSON": json.dumps(body)}
            bare_args = ["--chdir", str(ROOT / "bench" / "bare_server")]
            libraries_env = {**bare_env, "BENCH_LIBRARIES": "1"}
            with (
                gunicorn_server(bare_env, workers=2, extra_args=bare_args) as bare,
                gunicorn_server(libraries_env, workers=2, extra_args=bare_args) as libraries,
            ):
                servers = {"app": ours, "bare": bare, "libraries": libraries}
                for server in servers.values():
                    answer = requests.get(server.url(PATH), headers=headers, timeout=10)
                    assert answer.status_code == 200 and answer.json() == body, answer.text
                    load(server.base_url, headers, 200)  # warm up both workers of each
                failures = dict.fromkeys(servers, 0)
                cpu: dict[str, list[float]] = {name: [] for name in servers}

                def measure(name: str) -> float:
                    before = worker_cpu_seconds(servers[name].worker_pids())
                    rate, failed = load(servers[name].base_url, headers, per_round)
                    cpu[name].append((worker_cpu_seconds(servers[name].worker_pids()) - before) / per_round)
                    failures[name] += failed
                    return rate

                samples = interleaved({name: (lambda name=name: measure(name)) for name in servers}, rounds)
            log_lines = sum(1 for line in ours.stderr().splitlines() if '"message": "request"' in line)
    app_rps, bare_rps = median(samples["app"]), median(samples["bare"])
    ratio = app_rps / bare_rps
    print(f"   {rounds} round(s) x {per_round} requests per server, {THREADS} client threads, interleaved (req/s):")
    print(f"   JWT GET /api/v1/me (whole stack)   {app_rps:7.0f} req/s  ({spread(samples['app'])})")
    print(f"   bare Flask route, same JSON        {bare_rps:7.0f} req/s  ({spread(samples['bare'])})")
    libraries_rps = median(samples["libraries"])
    print(
        f"   bare + flask-jwt-extended + flask-limiter memory:// + JSON log line {libraries_rps:7.0f} req/s "
        f"({libraries_rps / bare_rps:.2f} of bare): the floor of the libraries alone"
    )
    print(f"   ratio {ratio:.2f} (target >= {TARGET:.2f}); non-200 answers: {failures}")
    app_cpu, bare_cpu, libraries_cpu = (median(cpu[name]) * 1e6 for name in ("app", "bare", "libraries"))
    print(
        f"   CPU of the 2 workers per request (median): app {app_cpu:.0f} us, libraries alone {libraries_cpu:.0f} us, "
        f"bare {bare_cpu:.0f} us; so at most {bare_cpu / libraries_cpu:.2f} of bare for any code on these libraries"
    )
    print(f"   the app's {log_lines} JSON request log lines went to gunicorn's stderr file, not the terminal")
    return [
        Figure(
            "Throughput: JWT GET /me / bare route (gunicorn, 2 workers)",
            f"{ratio:.2f} ({app_rps:.0f} / {bare_rps:.0f} req/s)",
            f">= {TARGET:.2f}",
            ratio >= TARGET and not any(failures.values()),
        )
    ]
