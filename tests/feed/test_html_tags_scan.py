"""The skipping Reddit scan: the same elements as reading every tag, and lexbor's view of posts;
the split that reads a post body's text: the same text as walking its tags."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from feed.platforms import feed_parse
from feed.platforms.html_tags import (
    Tag,
    _elements_find,
    _text_visible,
    entities_decode,
    html_elements_find,
    tag_attributes_parse,
)
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
          "</p>", "<div>", "<\u212aimg>", "<span data-x=\" slot=title\">",
          # The skip stops where the hint next matches and reads no token past it; a quote
          # after `=` must close before that point, a comment or a tag must end before it.
          '<a b="', "<a b='", '<a b= "x>', "<!-- <a slot=title> -->", "<!-- > <a slot=title> -->",
          "<![CDATA[<a slot=title>]]>",
          "<script><shreddit-post id=t3_s></script>", '<a data-x="<a slot=title>">',
          "<a slot=\"title\" b='>'>", "<!-", "<!--->", "<!x>", "</a ", "<a/slot=title>",
          "slot", "<slot=title>", '<p class="a>b">', "<br/>", "<li>", "<svg>", "</svg>",
          "&nbsp;", "\xa0", "\r\n", "  ", "<style>", "</style>", "<script/>", "<P>"]  # fmt: skip


def elements_both_ways(body: str) -> tuple[list, list]:
    found = [_elements_find(body, _WANTED_TAGS, _TEXT_SLOT_HINT, skip=skip)
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


def test_the_skip_finds_no_element_inside_comments_scripts_cdata_or_attribute_values() -> None:
    body = (
        '<!-- a > b <shreddit-post id="t3_comment"><a slot="title">c</a></shreddit-post> -->'
        '<script><shreddit-post id="t3_script"><a slot="title">s</a></script>'
        '<![CDATA[<shreddit-post id="t3_cdata">]]>'
        '<div data-x=\'<shreddit-post id="t3_value"><a slot="title">v</a>\'></div>'
        '<shreddit-post id="t3_real"><a title="1 > 0" slot="title">Real</a></shreddit-post>'
    )
    posts = feed_parse("reddit", body).posts
    lexbor = LexborHTMLParser(body).css("shreddit-post")
    assert [post.id for post in posts] == [node.attributes["id"] for node in lexbor]
    assert [post.id for post in posts] == ["t3_real"]
    assert [(field.key, field.text) for field in posts[0].fields] == [("title", "Real")]


def test_a_slot_in_a_tag_whose_quote_never_closes_is_read_as_every_tag_reading_reads_it() -> None:
    body = '<shreddit-post id="t3_a"><a b="x slot=title>T</a>' + " " * 50 + "</shreddit-post>"
    skipped, every = elements_both_ways(body)
    assert skipped == every
    assert [element.name for element in skipped] == ["shreddit-post", "a"]


def test_attributes_are_decoded_when_read_and_the_first_occurrence_wins() -> None:
    body = (
        '<img SRC="a?x=1&amp;y=2" src="second" alt=\'&lt;3\' data-json="{&quot;k&quot;:1}" hidden>'
    )
    attributes = tag_attributes_parse(body, Tag(0, len(body), "img", False, 4))
    assert dict(attributes) == {
        "src": "a?x=1&y=2",
        "alt": "<3",
        "data-json": '{"k":1}',
        "hidden": "",
    }
    assert attributes.get("src") == attributes["src"] == "a?x=1&y=2"
    assert attributes.get("missing") is None and attributes.get("missing", "") == ""
    assert "hidden" in attributes and "missing" not in attributes
    [element] = html_elements_find(body, frozenset({"img"}), _TEXT_SLOT_HINT)
    assert element.attributes == attributes


@pytest.mark.parametrize("name", SHREDDIT)
def test_the_text_split_reads_what_walking_the_tags_reads_on_real_pages(name: str) -> None:
    body = real_capture("reddit", name)
    elements = _elements_find(body, _WANTED_TAGS, _TEXT_SLOT_HINT, skip=True)
    spans = [element.inner for element in elements if element.attributes.get("slot")]
    assert spans
    for start, end in spans:
        fragment = body[start:end]
        assert _text_visible(fragment, fast=True) == _text_visible(fragment, fast=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=40).map("".join))
def test_the_text_split_reads_what_walking_the_tags_reads_on_hostile_markup(body) -> None:
    assert _text_visible(body, fast=True) == _text_visible(body, fast=False)


def test_visible_text_has_one_line_per_block_and_collapsed_spaces() -> None:
    body = (
        "<p> a \t b&nbsp;</p><br/><li>c <b>d</b>\r\n e</li><!-- <p>x</p> --><svg><p>no</p></svg>"
    )
    expected = "a b\nc d\ne"
    assert _text_visible(body, fast=True) == _text_visible(body, fast=False) == expected


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
