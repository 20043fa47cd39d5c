"""``make bench``: every benchmark of issue 9 in one run, then one table of figures, targets and PASS/FAIL.

    .venv/bin/python -m bench.run                 # all six, about 3 minutes on 2 cores
    .venv/bin/python -m bench.run --only cold,request --quick
    .venv/bin/python -m bench.run --profile       # also save profiles when every target holds
    .venv/bin/python -m bench.run --table FILE    # also write the table (markdown) to FILE
    .venv/bin/python -m bench.run --repackage     # rebuild the Lambda zip first (make package, PyPI)

Ratios are measured side by side in the same run, so they hold on any machine; absolute times are
this machine's, and other processes on it move them (each figure is a median of alternated runs).
Profiles of a benchmark that misses its target are written under bench/profiles/. The exit status is
0 unless a benchmark could not run (``--strict``: also when a target is missed).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
from pathlib import Path

from bench import cold_start, cost, dynamodb_calls, leasing, login, package, per_request, throughput
from bench.common import Figure

BENCHMARKS = {
    "cold": cold_start,
    "request": per_request,
    "dynamodb": dynamodb_calls,
    "leasing": leasing,
    "throughput": throughput,
    "login": login,
    "package": package,
    "cost": cost,
}


def table(figures: list[Figure]) -> str:
    """The figures as a markdown table (what the README's Performance section shows)."""
    lines = ["| # | figure | measured | target | result |", "|---|---|---|---|---|"]
    for index, figure in enumerate(figures, 1):
        lines.append(f"| {index} | {figure.name} | {figure.measured} | {figure.target} | {figure.result} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, noisier figures)")
    parser.add_argument("--profile", action="store_true", help="save profiles even when targets hold")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--repackage", action="store_true", help="rebuild the Lambda zip (make package) first")
    parser.add_argument("--table", type=Path, help="also write the final table (markdown) to this file")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    # moto's server runs in a thread of this process: its werkzeug line per request stays off the terminal.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    started = time.time()
    print(
        f"bench: {platform.python_version()} on {platform.machine()}, {_cpus()} CPU(s); {time.strftime('%Y-%m-%d %H:%M')}"
    )
    figures: list[Figure] = []
    broken: list[str] = []
    for name in chosen:
        try:
            figures += BENCHMARKS[name].run(args)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            print(f"   {name}: could not run: {type(exc).__name__}: {exc}")
            broken.append(name)
            figures.append(Figure(f"{name}: could not run", type(exc).__name__, "runs", False))

    rendered = table(figures)
    print(f"\n== Results ({time.time() - started:.0f} s) ==\n{rendered}")
    failed = [figure.name for figure in figures if figure.passed is False]
    print(
        f"\n{sum(f.passed is True for f in figures)} PASS, {len(failed)} FAIL, {sum(f.passed is None for f in figures)} info"
    )
    if args.table:
        args.table.write_text(rendered + "\n")
    if broken or (args.strict and failed):
        return 1
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
