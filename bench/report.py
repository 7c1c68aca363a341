"""Writes one benchmark's section of docs/BENCHMARKS.md, leaving the other sections alone.

Each bench script owns the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`.
"""

from __future__ import annotations

import platform
import re
import statistics
from datetime import UTC, datetime
from pathlib import Path

# Every image/video host of the real captures (also as JSON writes it, `https:\/\/`).
MEDIA_URL = re.compile(
    r"https?:(?://|\\/\\/)(?:[a-z0-9-]+\.)*(?:twimg\.com|redd\.it|redditmedia\.com|"
    r"redditstatic\.com|reddit\.com/media)"
)


def media_localise(body: str) -> str:
    """A real capture with every image/video host made 127.0.0.1: a server that may fetch a
    post's pictures never resolves or contacts a public host (127.0.0.1:80 is not allowed)."""
    return MEDIA_URL.sub("http://127.0.0.1", body)


REPORT = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\nWritten by the scripts in `bench/`; run one with "
    "`.venv/bin/python bench/<name>.py`. Figures are medians and percentiles from the "
    "development machine (2 cores, noisy); compare ratios, not absolutes.\n"
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mb(pid: int, *, peak: bool = False) -> float:
    """A process's resident memory in MB now, or its peak so far (`peak`: VmHWM)."""
    field = "VmHWM:" if peak else "VmRSS:"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def section_write(name: str, title: str, body: str) -> None:
    """Replace (or append) the section called `name` with `body` under a `## title` heading."""
    REPORT.parent.mkdir(exist_ok=True)
    text = REPORT.read_text() if REPORT.exists() else HEADER
    stamp = f"_{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}_"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n## {title}\n\n{stamp}\n\n{body.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    REPORT.write_text(text)
