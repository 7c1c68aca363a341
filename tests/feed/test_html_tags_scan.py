"""The skipping Reddit scan: the same elements as reading every tag, and lexbor's view of posts."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from feed.platforms import feed_parse
from feed.platforms.html_tags import _elements_find, entities_decode
from feed.platforms.reddit import _TEXT_SLOT_HINT, _WANTED_TAGS
from tests.feed.test_reddit import HOSTILE_PIECES
from tests.support.captures import real_capture

SHREDDIT = [
    "shreddit_subreddit-feed_r-MachineLearning_rendered-dom_50posts_5ads.html",
    "shreddit_post-detail_r-artificial_text-post_16comments_rendered-dom.html",
    "shreddit_subreddit-page_r-cybersecurity_ssr-prettified_3posts.html",
    "shreddit_post-detail_r-SaaS_text-post_2023-ssr_no-comments.html",
]
PIECES = [*HOSTILE_PIECES, " slot=title", "<b title='a > slot=title'>", "<p slot=text-body>",
          "</p>", "<div>", "<\u212aimg>", "<span data-x=\" slot=title\">"]  # fmt: skip


def elements_both_ways(body: str) -> tuple[list, list]:
    found = [_elements_find(body, _WANTED_TAGS, "slot", _TEXT_SLOT_HINT, skip=skip)
             for skip in (True, False)]  # fmt: skip
    return found[0], found[1]


@pytest.mark.parametrize("name", SHREDDIT)
def test_skipping_finds_exactly_what_reading_every_tag_finds_on_real_pages(name: str) -> None:
    skipped, every = elements_both_ways(real_capture("reddit", name))
    assert skipped == every


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=40).map("".join))
def test_skipping_finds_exactly_what_reading_every_tag_finds_on_hostile_markup(body) -> None:
    skipped, every = elements_both_ways(body)
    assert skipped == every


@pytest.mark.parametrize("name", SHREDDIT)
def test_posts_titles_and_images_agree_with_lexbor(name: str) -> None:
    body = real_capture("reddit", name)
    tree = LexborHTMLParser(body)
    nodes = tree.css("shreddit-post, shreddit-ad-post")
    lexbor_ids = [node.attributes.get("id") or node.attributes.get("post-id") for node in nodes]
    posts = [post for post in feed_parse("reddit", body).posts if post.kind in ("post", "ad")]
    assert [post.id for post in posts] == list(dict.fromkeys(lexbor_ids))
    for post, node in zip(posts, nodes, strict=False):
        title = node.css_first('[slot="title"]')
        fields = {field.key: field.text for field in post.fields}
        if title is not None and title.text(strip=True):
            assert " ".join(title.text().split()) == " ".join(fields["title"].split())
        lexbor_images = {
            image.attributes.get("src") or image.attributes.get("data-lazy-src")
            for image in node.css("img")
        }
        assert {media.url for media in post.media} <= lexbor_images


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["&quot;", "&amp;", "&lt;", "&", "&amp;lt;", "x", "&#x27;",
                                 "&nbsp;", "&lt"]), max_size=60).map("".join))  # fmt: skip
def test_entities_decode_is_html_unescape(text: str) -> None:
    assert entities_decode(text) == html.unescape(text)
