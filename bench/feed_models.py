"""Model economy and analyzer latency (DESIGN.md, "Performance targets").

- OpenAI analyzer against the local OpenAI-compatible server answering after 800 ms per call:
  model calls and wall time for a 25-post feed (analyze + the rewrite request), target ≤ 2 calls
  and ≤ 2 s; and a 50-post feed (two chunks, sent concurrently).
- Embedded analyzer: analyze() on 50 posts x 5 filters, cold (fresh analyzer, so no cached
  filter vectors, every post new; the model itself loaded once per process, load time reported
  separately), with DIYMOD_ONNX_THREADS 1 and 2. Posts: the real 50-post r/MachineLearning page
  when shared/fixtures is present, and 50 short posts from the labelled set.

Run: .venv/bin/python bench/feed_models.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REAL_PAGE = (
    ROOT.parent
    / "shared/fixtures/real/reddit"
    / "shreddit_subreddit-feed_r-MachineLearning_rendered-dom_50posts_5ads.html"
)
PAIRS = ROOT / "tests" / "feed" / "labelled_pairs.jsonl"
FILTER_TEXTS = [
    "spiders",
    "pregnancy announcements",
    "spoilers for Severance",
    "car crashes",
    "US politics",
]
MODEL_DELAY_SECONDS = 0.8
ROUNDS = 5


def labelled_posts(count: int) -> list[Any]:
    from feed.analyzers.base import PostInput

    texts = list(
        dict.fromkeys(json.loads(line)["text"] for line in PAIRS.read_text().splitlines())
    )
    return [PostInput(f"t3_{index}", texts[index % len(texts)]) for index in range(count)]


def real_page_posts() -> list[Any]:
    """Title + body text of each post, the way the Reddit adapter reads them."""
    from selectolax.lexbor import LexborHTMLParser

    from feed.analyzers.base import PostInput

    posts = []
    for node in LexborHTMLParser(REAL_PAGE.read_text()).css("shreddit-post"):
        body = node.css_first('[slot="text-body"]')
        body_text = " ".join(body.text(separator=" ").split()) if body else ""
        text = (node.attributes.get("post-title") or "") + "\n" + body_text
        posts.append(PostInput(node.attributes.get("id") or str(len(posts)), text))
    return posts


def filter_specs(content_type: str = "all") -> list[Any]:
    from feed.analyzers.base import FilterSpec

    return [
        FilterSpec(id=index, text=text, content_type=content_type, intensity=3)
        for index, text in enumerate(FILTER_TEXTS)
    ]


# -- OpenAI analyzer ------------------------------------------------------------------------


def keyword_model(body: dict[str, Any]) -> dict[str, Any]:
    """Stand-in model: matches on the topic's first word; rewrites every passage."""
    content = body["messages"][-1]["content"]
    payload = json.loads(content if isinstance(content, str) else content[0]["text"])
    if "filters" not in payload:  # the rewrite request
        return {
            "posts": [
                {
                    "id": post["id"],
                    "warning": "You asked not to see some of this",
                    "replacements": [
                        {"passage": p, "replacement": "(hidden)"} for p in post["passages"]
                    ],
                }
                for post in payload["posts"]
            ]
        }
    posts = []
    for post in payload["posts"]:
        matches = []
        for item in payload["filters"]:
            word = item["topic"].split()[0].rstrip("s").lower()
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", post["text"]) if word in s.lower()]
            if sentences:
                matches.append(
                    {
                        "filter_id": item["id"],
                        "confidence": 0.9,
                        "passages": sentences,
                        "in_text": True,
                        "in_image": False,
                    }
                )
        posts.append({"id": post["id"], "matches": matches})
    return {"posts": posts}


def openai_feed_measure(server: Any, post_count: int) -> dict[str, float]:
    from feed.analyzers import analyzer_get
    from feed.analyzers.base import RewriteRequest

    analyzer = analyzer_get()
    specs = filter_specs("text")
    timings, calls, degraded = [], [], 0
    for round_index in range(ROUNDS):
        posts = [
            type(post)(f"{post.id}-{round_index}", post.text)
            for post in labelled_posts(post_count)
        ]
        before = len(server.calls)
        started = time.perf_counter()
        analysis = analyzer.analyze(posts, specs)
        texts = {post.id: post.text for post in posts}
        requests = [
            RewriteRequest(
                post_id,
                texts[post_id],
                tuple(p for m in found for p in m.passages),
                tuple(specs[m.filter_id].text for m in found),
            )
            for post_id, found in analysis.matches.items()
        ]
        analyzer.rewrite(requests)
        timings.append(time.perf_counter() - started)
        calls.append(len(server.calls) - before)
        degraded += bool(analysis.degraded_reason)
    return {
        "median_seconds": sorted(timings)[len(timings) // 2],
        "max_calls": max(calls),
        "median_calls": sorted(calls)[len(calls) // 2],
        "degraded_rounds": degraded,
    }


def openai_section() -> str:
    from tests.support.openai_server import OpenAIServer

    with OpenAIServer() as server:
        server.delay = MODEL_DELAY_SECONDS
        server.respond_with(keyword_model)
        from django.conf import settings

        settings.OPENAI_API_KEY = "bench"
        settings.OPENAI_BASE_URL = server.base_url
        settings.DIYMOD_ANALYZER = "openai"
        feed_25 = openai_feed_measure(server, 25)
        feed_50 = openai_feed_measure(server, 50)
    rows = [
        f"| {name} | {m['median_calls']:.0f} (max {m['max_calls']:.0f}) | "
        f"{m['median_seconds'] * 1000:.0f} ms | {m['degraded_rounds']:.0f} |"
        for name, m in (("25 posts", feed_25), ("50 posts", feed_50))
    ]
    return "\n".join(
        [
            "OpenAI analyzer, local server answering after "
            f"{MODEL_DELAY_SECONDS * 1000:.0f} ms per call, 5 text filters, analyze() + "
            f"rewrite() of the matching posts, {ROUNDS} rounds:",
            "",
            "| feed | model calls | wall time (median) | degraded rounds |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            "Target: ≤ 2 calls and ≤ 2 s for 25 posts (published system: 50–250 calls, 5–15 s).",
        ]
    )


# -- embedded analyzer ----------------------------------------------------------------------


def embedded_measure() -> dict[str, Any]:
    """Runs in a child process so that DIYMOD_ONNX_THREADS and the cold load are real."""
    from feed.analyzers.embedded import EmbeddedAnalyzer
    from feed.analyzers.minilm import minilm_get

    started = time.perf_counter()
    model = minilm_get()
    load_seconds = time.perf_counter() - started
    result: dict[str, Any] = {"load_ms": load_seconds * 1000}
    sets = {"labelled": labelled_posts(50)}
    if REAL_PAGE.exists():
        sets["real"] = real_page_posts()
    for name, posts in sets.items():
        wall, cpu = [], []
        for _ in range(7):
            analyzer = EmbeddedAnalyzer(model=model)  # no cached filter vectors: cold
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            analyzer.analyze(posts, filter_specs())
            wall.append((time.perf_counter() - wall_start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
        result[name] = {
            "posts": len(posts),
            "median_ms": sorted(wall)[3],
            "max_ms": max(wall),
            "cpu_median_ms": sorted(cpu)[3],
        }
    return result


def embedded_child(threads: int) -> dict[str, Any]:
    environment = {**os.environ, "DIYMOD_ONNX_THREADS": str(threads)}
    output = subprocess.run(
        [sys.executable, __file__, "--embedded-child"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def embedded_section() -> str:
    lines = [
        "Embedded analyzer, analyze() on 50 posts x 5 filters (content type all), cold: a fresh",
        "analyzer per run (filter vectors not cached, every post new), model already loaded;",
        "median of 7 runs. Model load (sha256 check + session) is paid once per process.",
        "",
        "| posts | ONNX threads | wall (median) | wall (max) | CPU (median) | model load |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for threads in (1, 2):
        measured = embedded_child(threads)
        for name, label in (
            ("real", "real r/MachineLearning page (long posts)"),
            ("labelled", "50 short posts from the labelled set"),
        ):
            if name in measured:
                m = measured[name]
                lines.append(
                    f"| {label} | {threads} | {m['median_ms']:.0f} ms | {m['max_ms']:.0f} ms | "
                    f"{m['cpu_median_ms']:.0f} ms | {measured['load_ms']:.0f} ms |"
                )
    lines += ["", "Budget: the whole cold /get_feed of the real page ≤ 800 ms on 2 cores."]
    return "\n".join(lines)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diymod.settings")
    import django

    django.setup()


def main() -> None:
    django_setup()
    if "--embedded-child" in sys.argv:
        print(json.dumps(embedded_measure()))
        return
    from bench.report import section_write

    body = openai_section() + "\n\n" + embedded_section()
    section_write("analyzers", "Analyzers: model calls and latency", body)
    print(body)


if __name__ == "__main__":
    main()
