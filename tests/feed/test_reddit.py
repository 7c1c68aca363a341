"""The Reddit (shreddit HTML) adapter: extraction, in-place rendering, hostile input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from feed.platforms import FeedParseError, feed_parse
from feed.platforms.base import MediaEdit
from tests.support.captures import real_capture

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FEED_50 = "shreddit_subreddit-feed_r-MachineLearning_rendered-dom_50posts_5ads.html"
POST_PAGE = "shreddit_post-detail_r-artificial_text-post_16comments_rendered-dom.html"
CYBERSECURITY = "shreddit_subreddit-page_r-cybersecurity_ssr-prettified_3posts.html"
SAAS = "shreddit_post-detail_r-SaaS_text-post_2023-ssr_no-comments.html"
SAFE_MARKED = "Tom &amp; Jerry &lt;3 __BLUR_START__&lt;script&gt;__BLUR_END__"
DEFERRED = {"type": "cartoonish", "status": "DEFERRED", "filters": ['say "spiders" <now>']}


def real(name: str) -> str:
    return real_capture("reddit", name)


def small() -> str:
    return (FIXTURES / "shreddit_small_feed.html").read_text()


def post_by_id(feed, post_id):
    return next(post for post in feed.posts if post.id == post_id)


def field_text(post, key: str) -> str:
    return next(field.text for field in post.fields if field.key == key)


def dom(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def shreddit_counts(html: str) -> Counter:
    tree = dom(html)
    names = ("shreddit-post", "shreddit-ad-post", "shreddit-comment", "faceplate-partial")
    counts = Counter({name: len(tree.css(name)) for name in names})
    counts["cursor"] = len(tree.css("[more-posts-cursor]"))
    return counts


# --- the real captures ----------------------------------------------------------------------


def test_machine_learning_feed_has_50_posts_and_5_ads() -> None:
    feed = feed_parse("reddit", real(FEED_50))
    assert Counter(post.kind for post in feed.posts) == {"post": 50, "ad": 5}
    assert all(post.id.startswith("t3_") for post in feed.posts)


def test_machine_learning_feed_media_is_one_image_three_gallery_slides_and_a_gif_poster() -> None:
    feed = feed_parse("reddit", real(FEED_50))
    media = Counter(ref.kind for post in feed.posts if post.kind == "post" for ref in post.media)
    assert media == {"image": 1, "gallery": 3, "poster": 1}
    ads = [ref for post in feed.posts if post.kind == "ad" for ref in post.media]
    assert len(ads) == 5 and all(ref.kind == "image" for ref in ads)
    gallery = next(post for post in feed.posts if post.meta["post_type"] == "gallery")
    assert len({ref.url for ref in gallery.media}) == 3
    assert all(ref.url.startswith("https://preview.redd.it/") for ref in gallery.media)
    assert all("&amp;" not in ref.url for post in feed.posts for ref in post.media)


def test_every_title_matches_the_post_title_attribute() -> None:
    html = real(FEED_50)
    feed = feed_parse("reddit", html)
    tree = dom(html)
    for element in tree.css("shreddit-post"):
        post = post_by_id(feed, element.attributes["id"])
        assert field_text(post, "title") == " ".join(element.attributes["post-title"].split())


def test_named_posts_have_their_visible_text_and_meta() -> None:
    feed = feed_parse("reddit", real(FEED_50))
    post = post_by_id(feed, "t3_1ufdzsr")
    assert field_text(post, "body").startswith(
        "Hello,\nI'm currently working on my dissertation and feel like I could really use"
    )
    assert post.meta == {
        "author": "Michi122211",
        "permalink": "/r/MachineLearning/comments/1ufdzsr/optimising_lmapf_guidance_graphs_using/",
        "subreddit": "r/MachineLearning",
        "post_type": "text",
    }
    ad = next(post for post in feed.posts if post.kind == "ad")
    assert field_text(ad, "title").startswith("Most bacterial bead-storage systems")
    assert ad.meta["promoted"] is True


def test_post_page_has_one_post_with_h1_title_and_16_comments() -> None:
    feed = feed_parse("reddit", real(POST_PAGE))
    kinds = Counter(post.kind for post in feed.posts)
    assert kinds == {"post": 1, "comment": 16}
    post = feed.posts[0]
    assert field_text(post, "title").startswith("This week in AI: GPT-5.6, Gemini 3.5 Flash")
    assert field_text(post, "body").startswith("Lot dropped this week")
    comments = [post for post in feed.posts if post.kind == "comment"]
    assert Counter(comment.meta["depth"] for comment in comments) == {"0": 10, "1": 5, "2": 1}
    assert all(comment.id.startswith("t1_") and comment.fields for comment in comments)
    first = post_by_id(feed, "t1_ovhuosk")
    assert field_text(first, "body").startswith("Price drops? According to who exactly? The labs.")


def test_a_parent_comment_does_not_swallow_its_replies_text() -> None:
    feed = feed_parse("reddit", real(POST_PAGE))
    comments = [post for post in feed.posts if post.kind == "comment"]
    for comment in comments:
        for other in comments:
            if other is not comment and len(other.text) > 40:
                assert other.text not in comment.text


def test_cybersecurity_page_has_three_posts_and_one_body() -> None:
    feed = feed_parse("reddit", real(CYBERSECURITY))
    assert len(feed.posts) == 3
    assert sum(1 for post in feed.posts for field in post.fields if field.key == "body") == 1
    post = post_by_id(feed, "t3_1kp2laj")
    assert field_text(post, "title") == "Chinese ‘kill switches’ found hidden in US solar farms"


def test_saas_page_has_one_post_with_h1_title_and_div_body() -> None:
    feed = feed_parse("reddit", real(SAAS))
    assert [post.id for post in feed.posts] == ["t3_17hfimf"]
    post = feed.posts[0]
    title = "I wish there was a website that just had a list of customer pain points"
    assert field_text(post, "title") == title
    assert "Also is there a framework of sorts to find customers pain points?" in post.text


@pytest.mark.parametrize("name", [FEED_50, POST_PAGE, CYBERSECURITY, SAAS])
def test_real_page_without_edits_comes_back_as_the_same_string(name: str) -> None:
    html = real(name)
    assert feed_parse("reddit", html).render({}, {}) is html


def test_edited_real_feed_keeps_every_post_partial_and_cursor() -> None:
    html = real(FEED_50)
    feed = feed_parse("reddit", html)
    text_edits = {
        (post.id, field.key): SAFE_MARKED for post in feed.posts for field in post.fields
    }
    media_edits = {
        (post.id, ref.key): MediaEdit(DEFERRED) for post in feed.posts for ref in post.media
    }
    out = feed.render(text_edits, media_edits)
    assert shreddit_counts(out) == shreddit_counts(html)
    before, after = dom(html), dom(out)
    assert [node.html for node in after.css("faceplate-partial")] == [
        node.html for node in before.css("faceplate-partial")
    ]
    cursors = [node.attributes["more-posts-cursor"] for node in before.css("[more-posts-cursor]")]
    assert [
        node.attributes["more-posts-cursor"] for node in after.css("[more-posts-cursor]")
    ] == cursors
    assert len(after.css("img[diy-mod-image]")) == 10
    for element in after.css("shreddit-post, shreddit-ad-post"):
        title = element.css_first('[slot="title"]')
        assert [child.tag for child in title.iter(include_text=True)] == ["-text"]
        assert title.text() == SAFE_MARKED


def title_inner_span(html: str, post_id: str) -> tuple[int, int]:
    """Found by plain string search, independently of the adapter's scanner."""
    start = html.index(">", html.index(f'id="post-title-{post_id}"')) + 1
    return start, html.index("</a>", start)


def test_only_the_edited_spans_change() -> None:
    html = real(FEED_50)
    feed = feed_parse("reddit", html)
    first, last = feed.posts[0].id, feed.posts[49].id
    out = feed.render({(first, "title"): "a &lt;", (last, "title"): "b"}, {})
    (start_1, end_1), (start_2, end_2) = (
        title_inner_span(html, first),
        title_inner_span(html, last),
    )
    expected = html[:start_1] + "a &amp;lt;" + html[end_1:start_2] + "b" + html[end_2:]
    assert out == expected


# --- the small hand-written feed ------------------------------------------------------------


def test_small_feed_finds_each_shape_and_ignores_scripts_and_comments() -> None:
    feed = feed_parse("reddit", small())
    assert [(post.id, post.kind) for post in feed.posts] == [
        ("t3_hostile", "post"),
        ("t3_image", "post"),
        ("t3_gallery", "post"),
        ("t3_gif", "post"),
        ("t3_advert", "ad"),
        ("t1_parent", "comment"),
        ("t1_child", "comment"),
    ]


def test_hostile_text_is_decoded_for_reading() -> None:
    post = post_by_id(feed_parse("reddit", small()), "t3_hostile")
    assert field_text(post, "title") == "Tom & Jerry <3 <script>alert(1)</script>"
    assert field_text(post, "body") == (
        'First paragraph with emphasis and a link.\nSecond paragraph: 5 > 3 && "quotes"'
    )


def test_small_feed_media_are_the_primary_images_only() -> None:
    feed = feed_parse("reddit", small())
    media = {post.id: [(ref.kind, ref.url, ref.alt) for ref in post.media] for post in feed.posts}
    assert media["t3_image"] == [
        (
            "image",
            "https://preview.redd.it/spider.jpeg?width=640&s=abc",
            "r/pics - A spider on my window",
        )
    ]
    assert [url for _kind, url, _alt in media["t3_gallery"]] == [
        "https://preview.redd.it/one.png?width=640&s=1",
        "https://preview.redd.it/two.png?width=640&s=2",
        "https://preview.redd.it/three.png?width=640&s=3",
    ]
    assert media["t3_gif"] == [
        ("poster", "https://preview.redd.it/robot.gif?format=png8&s=8", "media poster")
    ]
    assert media["t3_advert"][0][0] == "image"
    assert media["t3_hostile"] == media["t1_parent"] == []


def test_comment_bodies_belong_to_their_own_comment() -> None:
    feed = feed_parse("reddit", small())
    assert field_text(post_by_id(feed, "t1_parent"), "body") == "I love cats & mice."
    assert field_text(post_by_id(feed, "t1_child"), "body") == "Me too <3"
    assert post_by_id(feed, "t1_child").meta["post_id"] == "t3_hostile"


def test_marked_title_is_one_text_node_escaped_once_more_for_the_document() -> None:
    html = small()
    out = feed_parse("reddit", html).render({("t3_hostile", "title"): SAFE_MARKED}, {})
    assert (
        'slot="title" href="/r/cats/comments/hostile/tom_jerry/">Tom &amp;amp; Jerry &amp;lt;3 '
        "__BLUR_START__&amp;lt;script&amp;gt;__BLUR_END__</a>"
    ) in out
    title = dom(out).css_first('shreddit-post[id="t3_hostile"] a[slot="title"]')
    assert [child.tag for child in title.iter(include_text=True)] == ["-text"]
    assert title.text() == SAFE_MARKED
    start = html.index('slot="title" href="/r/cats/comments/hostile/tom_jerry/">') + 56
    assert out[:start] == html[:start]
    end = html.index("</a>", start)
    assert out[len(out) - (len(html) - end) :] == html[end:]


def test_marked_body_replaces_the_inner_text_body_element() -> None:
    out = feed_parse("reddit", small()).render(
        {("t3_hostile", "body"): "__REWRITE_START__calm__REWRITE_END__"}, {}
    )
    wrapper = dom(out).css_first('shreddit-post[id="t3_hostile"] shreddit-post-text-body')
    body = wrapper.css_first('a[slot="text-body"]')
    assert body.text() == "__REWRITE_START__calm__REWRITE_END__"
    assert [child.tag for child in body.iter(include_text=True)] == ["-text"]


def test_marked_comment_keeps_its_replies() -> None:
    out = feed_parse("reddit", small()).render(
        {("t1_parent", "body"): "__BLUR_START__cats__BLUR_END__"}, {}
    )
    feed = feed_parse("reddit", out)
    assert field_text(post_by_id(feed, "t1_parent"), "body") == "__BLUR_START__cats__BLUR_END__"
    assert field_text(post_by_id(feed, "t1_child"), "body") == "Me too <3"


def test_image_edit_adds_the_contract_attributes_and_keeps_src() -> None:
    html = small()
    out = feed_parse("reddit", html).render({}, {("t3_image", "media-0"): MediaEdit(DEFERRED)})
    images = dom(out).css('shreddit-post[id="t3_image"] img')
    edited = [image for image in images if "diy-mod-image" in image.attributes]
    assert len(edited) == 1
    attributes = edited[0].attributes
    assert json.loads(attributes["diy-mod-image"]) == DEFERRED
    assert json.loads(attributes["diy-mod-custom"]) == {**DEFERRED, "intervention": "cartoonish"}
    assert attributes["srcset"] == ""
    assert attributes["src"] == "https://preview.redd.it/spider.jpeg?width=640&s=abc"
    assert attributes["class"].split() == [
        "i18n-post-media-img",
        "preview-img",
        "media-lightbox-img",
        "diy-mod-processed",
    ]
    assert attributes["alt"] == "r/pics - A spider on my window"
    assert out.count("diy-mod-image=") == 1 and out.count('srcset=""') == 1


def test_lazy_gallery_slide_edit_blanks_its_lazy_srcset_and_keeps_the_self_closing_slash() -> None:
    feed = feed_parse("reddit", small())
    edits = {
        ("t3_gallery", "media-1"): MediaEdit(DEFERRED),
        ("t3_gallery", "media-2"): MediaEdit(DEFERRED),
    }
    out = feed.render({}, edits)
    slides = [image for image in dom(out).css("gallery-carousel figure img")]
    assert "diy-mod-image" not in slides[0].attributes
    assert slides[1].attributes["data-lazy-srcset"] == "" and slides[1].attributes["srcset"] == ""
    assert slides[1].attributes["data-lazy-src"] == "https://preview.redd.it/two.png?width=640&s=2"
    assert "data-lazy-srcset" not in slides[2].attributes
    third = out[out.rindex("<img", 0, out.index("third photo")) :]
    assert third[: third.index(">") + 1].endswith('"/>')  # the self-closing slash is kept


def test_swap_ready_image_config_is_escaped_inside_the_attribute() -> None:
    config = {
        "type": "processed",
        "processed_image_url": "https://diy.example/media/a.png?x=1&y='2'",
    }
    out = feed_parse("reddit", small()).render({}, {("t3_gif", "media-0"): MediaEdit(config)})
    poster = dom(out).css_first('shreddit-player img[slot="poster"]')
    assert json.loads(poster.attributes["diy-mod-image"]) == config
    assert "&amp;y='2'" in out


def test_edits_for_unknown_posts_leave_the_document_as_is() -> None:
    html = small()
    feed = feed_parse("reddit", html)
    assert (
        feed.render({("t3_missing", "title"): "x"}, {("t3_image", "media-9"): MediaEdit(DEFERRED)})
        is html
    )


def test_the_same_post_twice_gets_the_edit_in_both_copies() -> None:
    block = small().split('<article data-post-id="t3_image">')[1].split("</article>")[0]
    html = f"<div>{block}</div><div>{block}</div>"
    feed = feed_parse("reddit", html)
    assert [post.id for post in feed.posts] == ["t3_image"]
    out = feed.render(
        {("t3_image", "title"): "hidden"}, {("t3_image", "media-0"): MediaEdit(DEFERRED)}
    )
    assert out.count(">hidden</a>") == 2 and out.count("diy-mod-image=") == 2


def test_json_and_empty_bodies_are_not_reddit_feeds() -> None:
    for body in ('{"kind": "Listing"}', "[1, 2]", "", "   \n"):
        with pytest.raises(FeedParseError):
            feed_parse("reddit", body)


def test_html_without_posts_has_zero_posts() -> None:
    assert feed_parse("reddit", "<html><body><p>nothing here</p></body></html>").posts == []


# --- hostile input --------------------------------------------------------------------------

HOSTILE_PIECES = [
    '<shreddit-post id="t3_a">',
    "</shreddit-post>",
    "<shreddit-ad-post>",
    "<shreddit-comment thingid=t1_x>",
    "</shreddit-comment>",
    '<a slot="title">',
    "</a>",
    '<div slot="text-body">',
    "</div>",
    '<div slot="comment">',
    '<img class="i18n-post-media-img" src="https://x/y.png">',
    "<gallery-carousel>",
    "<img data-lazy-src='z'/>",
    "<shreddit-player>",
    '<img slot="poster" src=p>',
    "<!--",
    "-->",
    "<script>",
    "</script>",
    "<template>",
    "</template>",
    "<",
    ">",
    '"',
    "'",
    "=",
    "&amp;",
    "&",
    "Tom & Jerry <3",
    "<!DOCTYPE html>",
    "<?x",
    "</",
    "<svg/>",
    "<textarea>",
    "\x00",
    "\ud800",
]


def hostile_render(body: str) -> None:
    try:
        feed = feed_parse("reddit", body)
    except FeedParseError:
        return
    assert feed.render({}, {}) is body
    text_edits = {(post.id, field.key): "<b>&</b>" for post in feed.posts for field in post.fields}
    media_edits = {
        (post.id, ref.key): MediaEdit(DEFERRED) for post in feed.posts for ref in post.media
    }
    assert isinstance(feed.render(text_edits, media_edits), str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(HOSTILE_PIECES) | st.text(max_size=8), max_size=40).map("".join))
def test_hostile_markup_never_crashes_the_adapter(body: str) -> None:
    hostile_render(body)


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=20_000))
def test_a_truncated_feed_never_crashes_and_finds_no_more_posts(cut: int) -> None:
    html = small()
    body = html[: cut % (len(html) + 1)]
    hostile_render(body)
    if body.strip():
        assert len(feed_parse("reddit", body).posts) <= 7


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_any_text_parses_or_is_refused_cleanly(body: str) -> None:
    hostile_render(body)


def test_an_end_tag_closes_the_recorded_elements_opened_inside_it() -> None:
    # The unrecorded <div> closes the never-closed title with it, as a browser would.
    html = (
        '<shreddit-post id="t3_a"><div slot="text-body"><div><a slot="title">Title'
        '</div> body text</div><img class="i18n-post-media-img" src="https://i.redd.it/a.png">'
        "</shreddit-post>"
    )
    post = feed_parse("reddit", html).posts[0]
    assert field_text(post, "title") == "Title"
    assert field_text(post, "body") == "Title\nbody text"
    assert [ref.url for ref in post.media] == ["https://i.redd.it/a.png"]


def test_a_url_repeated_in_a_post_is_one_media_reference() -> None:
    slide = '<li><figure><img class="media-lightbox-img" src="https://i.redd.it/same.png"></figure></li>'
    gallery = f"<gallery-carousel>{slide * 3}</gallery-carousel>"
    html = f'<shreddit-post id="t3_a">{gallery}</shreddit-post>'
    post = feed_parse("reddit", html).posts[0]
    assert [(ref.key, ref.kind) for ref in post.media] == [("media-0", "gallery")]


def test_a_post_inside_a_template_is_inert_and_not_moderated() -> None:
    html = '<template><shreddit-post id="t3_t"><a slot="title">x</a></shreddit-post></template>'
    assert feed_parse("reddit", html).posts == []


# --- properties -----------------------------------------------------------------------------

MARKED_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")) | st.just(" "),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip())
CONFIGS = st.dictionaries(
    st.text(min_size=1, max_size=8), st.text(max_size=12) | st.integers(), max_size=4
).map(lambda config: {"type": "cartoonish", **config})


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_set_of_text_edits_reads_back_and_leaves_other_fields_alone(data) -> None:
    feed = feed_parse("reddit", small())
    keys = [(post.id, field.key) for post in feed.posts for field in post.fields]
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
    edits = {key: data.draw(MARKED_TEXT) for key in chosen}
    again = feed_parse("reddit", feed.render(edits, {}))
    assert [post.id for post in again.posts] == [post.id for post in feed.posts]
    for before, after in zip(feed.posts, again.posts, strict=True):
        assert after.media == before.media
        for old, new in zip(before.fields, after.fields, strict=True):
            expected = edits.get((before.id, old.key))
            assert new.text == (" ".join(expected.split()) if expected else old.text)


@settings(max_examples=60, deadline=None)
@given(CONFIGS)
def test_any_image_config_survives_the_attribute_encoding(config: dict) -> None:
    out = feed_parse("reddit", small()).render({}, {("t3_gallery", "media-1"): MediaEdit(config)})
    image = dom(out).css_first("img[diy-mod-image]")
    assert json.loads(image.attributes["diy-mod-image"]) == config
    assert json.loads(image.attributes["diy-mod-custom"]) == {
        **config,
        "intervention": config["type"],
    }
    assert len(dom(out).css("shreddit-post, shreddit-ad-post, shreddit-comment")) == 7


def test_every_marked_slide_of_the_real_gallery_gets_a_src_equal_to_its_key() -> None:
    """Issue 13.1: slides 2+ carry only `data-lazy-src`; clients poll and swap on `img.src`."""
    feed = feed_parse("reddit", real(FEED_50))
    gallery = next(post for post in feed.posts if post.meta["post_type"] == "gallery")
    edits = {(gallery.id, ref.key): MediaEdit(DEFERRED) for ref in gallery.media}

    out = feed.render({}, edits)

    marked = [
        image
        for image in dom(out).css(f'shreddit-post[id="{gallery.id}"] img')
        if "diy-mod-image" in image.attributes
    ]
    keys = {ref.url for ref in gallery.media}
    assert {image.attributes["src"] for image in marked} == keys
    for image in marked:
        lazy = image.attributes.get("data-lazy-src")
        assert lazy is None or lazy == image.attributes["src"]
    later_slides = [image for image in marked if "data-lazy-src" in image.attributes]
    assert len({image.attributes["src"] for image in later_slides}) == 2
    # Unmarked images (the blurred backgrounds) are left exactly as they were.
    assert sum("data-lazy-src" in image.attributes and "src" not in image.attributes
               for image in dom(out).css("gallery-carousel img")) == 2  # fmt: skip
