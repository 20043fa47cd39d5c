"""Profile text the benchmarks save under bench/profiles/: pyinstrument's call tree, cProfile by package."""

from __future__ import annotations

import cProfile
import io
import os
import pstats
from collections import Counter
from collections.abc import Callable

from bench.common import ROOT


def pyinstrument_text(
    action: Callable[[], object], interval: float = 0.0002, show: str | None = None, threshold: float = 0.01
) -> str:
    """pyinstrument's call tree of ``action``: library frames folded, except those whose path matches
    ``show``; frames under ``threshold`` of the total left out."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=interval)
    profiler.start()
    try:
        action()
    finally:
        profiler.stop()
    options = {"filter_threshold": threshold, **({"show_regex": show} if show else {})}
    return profiler.output_text(unicode=False, color=False, show_all=False, processor_options=options)


def cprofile_by_package(action: Callable[[], object], per: int, unit: str = "request") -> str:
    """cProfile's own time of ``action`` summed per package (and the top functions), divided by ``per``."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        action()
    finally:
        profile.disable()
    stats = pstats.Stats(profile)
    by_package: Counter = Counter()
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[_package(filename, function)] += own
    total = sum(by_package.values())
    lines = [
        f"cProfile: own time per {unit}, summed by package (profiler overhead inflates every figure alike)",
        f"{'package or module':58s} {'us/' + unit:>12s} {'share':>7s}",
    ]
    for name, seconds in by_package.most_common(30):
        lines.append(f"{name:58s} {seconds / per * 1e6:12.1f} {seconds / total * 100:6.1f}%")
    lines.append(f"{'total':58s} {total / per * 1e6:12.1f}")
    buffer = io.StringIO()
    pstats.Stats(profile, stream=buffer).sort_stats("tottime").print_stats(25)
    body = buffer.getvalue().replace(str(ROOT) + "/", "").replace(".venv/lib/python3.11/site-packages/", "")
    return "\n".join(lines) + "\n\nTop functions by own time:\n" + body


def _package(filename: str, function: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename.startswith(str(ROOT)):
        return os.path.relpath(filename, ROOT)
    if filename.startswith(("~", "<")):
        return function  # a builtin: name it (lock waits and thread starts show up here)
    return "stdlib " + os.path.basename(filename)
