from __future__ import annotations

from feed import interventions as iv
from feed.wording import REWRITE_NOTE


def test_blur_wraps_each_occurrence_and_escapes_the_rest():
    marked = iv.blur_mark("Tom & Jerry <3 spiders, more spiders", ["spiders"])
    assert marked == (
        "Tom &amp; Jerry &lt;3 __BLUR_START__spiders__BLUR_END__, more "
        "__BLUR_START__spiders__BLUR_END__"
    )


def test_blur_merges_overlapping_passages():
    marked = iv.blur_mark("giant spider webs", ["giant spider", "spider webs"])
    assert marked == "__BLUR_START__giant spider webs__BLUR_END__"


def test_blur_of_a_passage_that_is_not_there_is_none():
    assert iv.blur_mark("nothing here", ["spiders"]) is None


def test_overlay_escapes_the_text_and_cleans_the_warning():
    marked = iv.overlay_mark('a "quote" <b>', 'Careful | "this"\n<now>')
    warning, text = (
        marked.removeprefix("__OVERLAY_START__").removesuffix("__OVERLAY_END__").split("|", 1)
    )
    assert warning == "Careful this now"
    assert text == "a &quot;quote&quot; &lt;b&gt;"


def test_rewrite_replaces_passages_and_escapes_the_replacement():
    marked = iv.rewrite_mark("I saw a spider. Then lunch.", {"I saw a spider.": "I saw <it>."})
    assert marked == "__REWRITE_START__I saw &lt;it&gt;.__REWRITE_END__ Then lunch."


def test_rewrite_without_replacement_text_uses_the_neutral_note():
    marked = iv.rewrite_mark("bad bit. good bit.", {"bad bit.": ""})
    assert marked.startswith(f"__REWRITE_START__{iv.text_escape(REWRITE_NOTE)}__REWRITE_END__")


def test_markers_in_post_text_are_defanged():
    hostile = "__BLUR_START__<img src=x onerror=alert(1)>__BLUR_END__"
    defanged = iv.markers_defang(hostile)
    assert not iv.markers_present(defanged)
    assert "<img" in defanged  # still shown as written, as text


def test_an_image_only_mark_is_an_empty_blur_before_the_escaped_text():
    """Issue 13.4: no "Modified by DIY-MOD" badge, no text changed, still a marked node."""
    marked = iv.image_only_mark("A & B <3 __BLUR_START__")
    assert marked == "__BLUR_START____BLUR_END__A &amp; B &lt;3 __\u200bBLUR_START__"
    assert iv.REWRITE[0] not in marked
