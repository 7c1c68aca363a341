"""The sample feeds the playground moderates: small Reddit and X payloads written by us.

Each file holds `@IMAGE_BASE@` where an image URL begins. A feed must carry absolute image URLs
(the server fetches them, CONTRACT section 5), and the only host that serves our pictures is this
server, so the placeholder becomes this server's own absolute image URL at request time.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SAMPLES_DIRECTORY = Path(__file__).resolve().parent / "samples"
IMAGE_BASE_PLACEHOLDER = "@IMAGE_BASE@"


@dataclass(frozen=True)
class Sample:
    name: str
    title: str
    platform: str
    file_name: str
    url: str  # the intercepted request URL the extension would send with this body

    def summary(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "platform": self.platform}


SAMPLES: dict[str, Sample] = {
    sample.name: sample
    for sample in (
        Sample(
            "reddit-home",
            "Reddit home feed: a spider, a Severance spoiler, a garden, a cat",
            "reddit",
            "reddit_home.html",
            "https://www.reddit.com/svc/shreddit/feeds/home-feed?after=dDNfcGcxMDAw&distance=5",
        ),
        Sample(
            "reddit-pics",
            "Reddit r/pics: a tarantula gallery, an office, a sunset",
            "reddit",
            "reddit_pics.html",
            "https://www.reddit.com/svc/shreddit/community-more-posts/hot/?name=pics&after=dDNf",
        ),
        Sample(
            "x-home",
            "X home timeline: a tarantula, a Severance spoiler, a conversation",
            "x",
            "x_home.json",
            "https://x.com/i/api/graphql/pgHomeTl01/HomeTimeline?variables=%7B%22count%22%3A20%7D",
        ),
    )
}


def sample_list() -> list[dict[str, str]]:
    return [sample.summary() for sample in SAMPLES.values()]


@lru_cache(maxsize=len(SAMPLES))
def sample_template(name: str) -> str:
    return (SAMPLES_DIRECTORY / SAMPLES[name].file_name).read_text(encoding="utf-8")


def sample_render(*, name: str, image_base: str) -> dict[str, str]:
    """The sample `name` as the extension would send it: {name, title, platform, url, body},
    its images at `image_base` (an absolute URL ending in `/`). KeyError for an unknown name."""
    sample = SAMPLES[name]
    body = sample_template(name).replace(
        IMAGE_BASE_PLACEHOLDER, image_base_encode(sample, image_base)
    )
    return {**sample.summary(), "url": sample.url, "body": body}


def image_base_encode(sample: Sample, image_base: str) -> str:
    """The base URL written the way the document type needs it (it comes from the request's
    Host header, so it is encoded, never trusted to be free of quotes)."""
    if sample.platform == "x":
        return json.dumps(image_base)[1:-1]
    return html.escape(image_base, quote=True)
