"""The check's built-in feed: one tiny shreddit document (CONTRACT section 3), and reading the
server's answer back (the `diy-mod-image` attribute of section 5, the markers of section 4)."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from typing import Any

FEED_URL = "https://www.reddit.com/svc/shreddit/feeds/home-feed"
FILTER_TEXT = "spiders"
# The basic check's post: about nothing anyone filters, so a fresh user gets it back unchanged.
PLAIN_TITLE = "My sourdough starter finally doubled overnight"
PLAIN_BODY = "Feeding it twice a day with rye flour made all the difference. Baking tomorrow!"
# The full check's post: no reasonable analyzer can miss it for the filter "spiders".
SPIDER_TITLE = "A huge spider crawled out of my bathtub drain last night"
SPIDER_BODY = (
    "It was a hairy brown spider, about the size of my palm, with eight long legs. "
    "I trapped the spider under a glass and carried it outside. Are spiders like this common?"
)
MARKERS = ("__BLUR_START__", "__OVERLAY_START__", "__REWRITE_START__")


def shreddit_feed_build(
    *, post_id: str, title: str, body: str, image_url: str | None = None
) -> str:
    """A one-post Reddit feed partial; with `image_url`, the post carries that single image."""
    quoted_id = html.escape(post_id)
    title_html = html.escape(title)
    media = ""
    if image_url is not None:
        src = html.escape(image_url)
        media = (
            '<div slot="post-media-container"><div class="media-lightbox-img">'
            f'<img class="i18n-post-media-img" src="{src}" alt="" srcset="{src} 640w">'
            "</div></div>"
        )
    return (
        "<shreddit-feed>"
        f'<article data-post-id="{quoted_id}">'
        f'<shreddit-post id="{quoted_id}" post-title="{title_html}" '
        f'post-type="{"image" if image_url else "text"}" author="diymod-check" '
        'subreddit-prefixed-name="r/diymodcheck" '
        f'permalink="/r/diymodcheck/comments/{quoted_id}/">'
        f'<a slot="title" href="/r/diymodcheck/comments/{quoted_id}/">{title_html}</a>'
        f'<a slot="text-body" href="/r/diymodcheck/comments/{quoted_id}/">'
        f'<div class="md"><p>{html.escape(body)}</p></div></a>'
        f"{media}</shreddit-post></article>"
        '<faceplate-partial loading="lazy" src="/svc/shreddit/feeds/home-feed?after=t3_zzz">'
        "</faceplate-partial></shreddit-feed>"
    )


def gallery_slide_urls(image_url: str, count: int = 3) -> list[str]:
    """Distinct keys for one picture: slide 1 is the image itself, later ones add a fragment
    (never sent when fetching, yet a different key, so each slide is a job of its own)."""
    return [image_url] + [f"{image_url}#diymod-check-slide-{n}" for n in range(2, count + 1)]


def shreddit_gallery_build(*, post_id: str, title: str, body: str, slides: list[str]) -> str:
    """A one-post feed with a gallery shaped as shreddit sends it (CONTRACT section 3): the
    first slide has a `src`, later slides only `data-lazy-src` (and `data-lazy-srcset`)."""
    quoted_id, title_html = html.escape(post_id), html.escape(title)
    items = []
    for number, url in enumerate(slides, start=1):
        src = html.escape(url)
        where = f'src="{src}"' if number == 1 else f'data-lazy-src="{src}"'
        sizes = f'srcset="{src} 640w"' if number == 1 else f'data-lazy-srcset="{src} 640w"'
        items.append(
            f'<li slot="page-{number}"><img class="post-background-image-filter" {where} alt="">'
            f'<figure><img class="media-lightbox-img" {where} {sizes} alt=""></figure></li>'
        )
    return (
        "<shreddit-feed>"
        f'<article data-post-id="{quoted_id}">'
        f'<shreddit-post id="{quoted_id}" post-title="{title_html}" post-type="gallery" '
        'author="diymod-check" subreddit-prefixed-name="r/diymodcheck" '
        f'permalink="/r/diymodcheck/comments/{quoted_id}/">'
        f'<a slot="title" href="/r/diymodcheck/comments/{quoted_id}/">{title_html}</a>'
        f'<a slot="text-body" href="/r/diymodcheck/comments/{quoted_id}/">'
        f'<div class="md"><p>{html.escape(body)}</p></div></a>'
        f'<div slot="post-media-container"><gallery-carousel post-id="{quoted_id}"><ul>'
        f"{''.join(items)}</ul></gallery-carousel></div></shreddit-post></article>"
        '<faceplate-partial loading="lazy" src="/svc/shreddit/feeds/home-feed?after=t3_zzz">'
        "</faceplate-partial></shreddit-feed>"
    )


class ImageAttributesFinder(HTMLParser):
    """Collects the attributes of every `<img>` whose `src` is the one we look for."""

    def __init__(self, src: str) -> None:
        super().__init__(convert_charrefs=True)
        self.src = src
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img":
            return
        values = {name: value or "" for name, value in attrs}
        if values.get("src") == self.src:
            self.found.append(values)


def image_attributes_find(document: str, src: str) -> dict[str, str] | None:
    """The attributes of the first `<img src=src>` of `document` (entities decoded), or None."""
    finder = ImageAttributesFinder(src)
    finder.feed(document)
    finder.close()
    return finder.found[0] if finder.found else None


def image_config_parse(attributes: dict[str, str]) -> dict[str, Any] | None:
    """The JSON object of `diy-mod-image`, or None when the image is not marked."""
    raw = attributes.get("diy-mod-image")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except ValueError:
        return None
    return config if isinstance(config, dict) else None


def text_marked(document: str) -> bool:
    return any(marker in document for marker in MARKERS)
