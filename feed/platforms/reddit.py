"""Reddit (shreddit HTML) adapter: CONTRACT.md sections 3, 4 and 5.

Posts are found with the offset-keeping scanner in `html_tags`, and edits are spliced into the
original string: everything outside an edited span comes back byte for byte, and Reddit's own
paging elements (`faceplate-partial`, `more-posts-cursor`) are never touched.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from feed.platforms.base import FeedParseError, MediaEdit, MediaRef, ParsedFeed, Post, TextField
from feed.platforms.html_tags import (
    Element,
    Tag,
    attribute_spans,
    attribute_value_escape,
    html_elements_find,
    html_text_visible,
    text_escape,
)

POST_TAGS = {"shreddit-post": "post", "shreddit-ad-post": "ad", "shreddit-comment": "comment"}
_CONTEXT_TAGS = frozenset({"gallery-carousel", "shreddit-player"})
_TEXT_SLOTS = frozenset({"title", "text-body", "comment"})
_BODY_WRAPPER = "shreddit-post-text-body"  # holds the a/div[slot=text-body] that has the text
_BACKGROUND_CLASS = "post-background-image-filter"  # a blurred copy behind the real image
PROCESSED_CLASS = "diy-mod-processed"
_JSON_START = re.compile(r"\s*[\[{]")
_WANTED_TAGS = frozenset(POST_TAGS) | _CONTEXT_TAGS | {"img"}
# Start tags that may carry a text slot; a pre-filter only, the parsed `slot` decides. It
# starts with the word, which `re` searches for quickly (the scan looks for it in the page).
_TEXT_SLOT_HINT = re.compile(
    r"""slot(?<=[\s"'/]slot)[\t\n\f\r ]*=[\t\n\f\r ]*["']?(?:title|text-body|comment)["'\s/>]"""
)


@dataclass
class _Owner:
    """One post, ad or comment element and what it holds."""

    element: Element
    slots: dict[str, list[Element]] = field(default_factory=dict)  # slot value -> elements
    images: list[tuple[Element, str]] = field(default_factory=list)  # (img, media kind)
    image_urls: set[str] = field(default_factory=set)  # one media ref per URL


class RedditFeed(ParsedFeed):
    def __init__(self, source: str, owners: list[_Owner]) -> None:
        self.source = source
        self.posts: list[Post] = []
        self._text_spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._images: dict[tuple[str, str], list[Element]] = {}
        seen: set[str] = set()
        for number, owner in enumerate(owners):
            post = self._post_build(owner, number)
            if post.id not in seen:  # the same post twice: one Post, both copies get the edits
                seen.add(post.id)
                self.posts.append(post)

    def _post_build(self, owner: _Owner, number: int) -> Post:
        attributes, kind = owner.element.attributes, POST_TAGS[owner.element.name]
        post_id = _owner_id(attributes, kind) or f"{owner.element.name}-{number}"
        fields = []
        for key, element in _text_elements(owner, kind):
            text = html_text_visible(self.source, *element.inner)
            self._text_spans.setdefault((post_id, key), []).append(element.inner)
            if text:
                fields.append(TextField(key, text))
        media = []
        for index, (image, media_kind) in enumerate(owner.images):
            key = f"media-{index}"
            self._images.setdefault((post_id, key), []).append(image)
            alt = image.attributes.get("alt", "")
            media.append(MediaRef(key, image_url(image), alt, media_kind))
        return Post(post_id, "reddit", kind, fields, media, _owner_meta(attributes, kind))

    def render(
        self,
        text_edits: dict[tuple[str, str], str],
        media_edits: dict[tuple[str, str], MediaEdit],
    ) -> str:
        splices: list[tuple[int, int, str]] = []
        for key, safe_html in text_edits.items():
            for start, end in self._text_spans.get(key, ()):
                splices.append((start, end, text_escape(safe_html)))
        for key, edit in media_edits.items():
            for image in self._images.get(key, ()):
                splices.append(
                    (image.tag.start, image.tag.end, _img_tag_edit(self.source, image, edit))
                )
        return splices_apply(self.source, splices)


def reddit_feed_parse(body: str) -> RedditFeed:
    """Every post, ad and comment of a shreddit page or partial. Raises FeedParseError for a
    body that is not HTML (empty, or JSON such as Reddit's `.json` API)."""
    if not isinstance(body, str) or not body or body.isspace():  # no copy of a 1 MB page
        raise FeedParseError("the Reddit feed body is empty")
    if _JSON_START.match(body):
        raise FeedParseError("the Reddit feed body is JSON, not shreddit HTML")
    elements = html_elements_find(body, _WANTED_TAGS, _TEXT_SLOT_HINT)
    return RedditFeed(body, _owners_collect(elements))


def _owners_collect(elements: list[Element]) -> list[_Owner]:
    """Assign each slot element and media image to its nearest enclosing post or comment."""
    owners: dict[int, _Owner] = {}
    for index, element, owner_index, contexts in _ancestry(elements):
        if element.in_template:
            continue
        if element.name in POST_TAGS:
            owners[index] = _Owner(element)
        owner = owners.get(owner_index)
        if owner is None:
            continue
        slot = element.attributes.get("slot", "")
        if element.name == "img":
            _image_add(owner, element, _media_kind(element, contexts))
        elif slot in _TEXT_SLOTS and element.name not in POST_TAGS:
            owner.slots.setdefault(slot, []).append(element)
    return list(owners.values())


def _ancestry(
    elements: list[Element],
) -> Iterator[tuple[int, Element, int, frozenset[str]]]:
    """(index, element, index of its nearest post/comment ancestor or -1, media contexts
    between the two). Parents come before children, so one pass suffices."""
    owner_of: list[int] = []
    contexts_of: list[frozenset[str]] = []
    for index, element in enumerate(elements):
        parent = element.parent
        if parent < 0:
            owner, contexts = -1, frozenset[str]()
        elif elements[parent].name in POST_TAGS:
            owner, contexts = parent, frozenset[str]()
        else:
            owner, contexts = owner_of[parent], contexts_of[parent]
            if elements[parent].name in _CONTEXT_TAGS:
                contexts = contexts | {elements[parent].name}
        owner_of.append(owner)
        contexts_of.append(contexts)
        yield index, element, owner, contexts


def _image_add(owner: _Owner, image: Element, media_kind: str) -> None:
    url = image_url(image)
    if media_kind and url and url not in owner.image_urls:
        owner.image_urls.add(url)
        owner.images.append((image, media_kind))


def image_url(image: Element) -> str:
    """Where the image loads from; later gallery slides keep it in `data-lazy-src`."""
    return image.attributes.get("src") or image.attributes.get("data-lazy-src") or ""


def _media_kind(image: Element, contexts: frozenset[str]) -> str:
    classes = image.attributes.get("class", "").split()
    if "i18n-post-media-img" in classes:
        return "image"
    if "gallery-carousel" in contexts and _BACKGROUND_CLASS not in classes:
        return "gallery"
    if "shreddit-player" in contexts and (
        image.attributes.get("slot") == "poster" or "preview-image" in classes
    ):
        return "poster"
    return ""


def _text_elements(owner: _Owner, kind: str) -> list[tuple[str, Element]]:
    """(field key, element whose whole content is the field) for the owner's text."""
    if kind == "comment":
        bodies = owner.slots.get("comment", [])
        return [("body", bodies[0])] if bodies else []
    chosen = []
    titles = owner.slots.get("title", [])
    if titles:
        chosen.append(("title", titles[0]))
    bodies = owner.slots.get("text-body", [])
    # The wrapper custom element holds the a/div that carries the text: prefer the inner one.
    inner_bodies = [body for body in bodies if body.name != _BODY_WRAPPER]
    if inner_bodies or bodies:
        chosen.append(("body", (inner_bodies or bodies)[0]))
    return chosen


def _owner_id(attributes: Mapping[str, str], kind: str) -> str:
    if kind == "comment":
        return attributes.get("thingid", "")
    return attributes.get("id") or attributes.get("post-id", "")


def _owner_meta(attributes: Mapping[str, str], kind: str) -> dict[str, object]:
    names = {"author": "author", "permalink": "permalink"}
    if kind == "comment":
        names |= {"postid": "post_id", "depth": "depth"}
    else:
        names |= {"subreddit-prefixed-name": "subreddit", "post-type": "post_type"}
    meta: dict[str, object] = {
        key: attributes[name] for name, key in names.items() if name in attributes
    }
    if kind == "ad":
        meta["promoted"] = True
    return meta


def _img_tag_edit(source: str, image: Element, edit: MediaEdit) -> str:
    """The `<img>` start tag with the contract's image attributes (CONTRACT.md section 5).

    `src` stays as it is: clients wait on it. A later gallery slide has none, only
    `data-lazy-src`, yet clients key their polling and their swap on `img.src`: it gets a `src`
    equal to its key, and `data-lazy-src` the same value, so whichever the carousel copies the
    client knows it (issue 13.1). `srcset` is emptied so the browser cannot pick an original
    rendition; a gallery slide's `data-lazy-srcset` too, or the carousel would copy it back
    into `srcset` when the slide is shown.
    """
    tag = image.tag
    spans = attribute_spans(source, tag)
    raw_class = next((value for name, _start, _end, value in spans if name == "class"), None)
    replacements = {
        "class": _class_with_processed(source[raw_class[0] : raw_class[1]] if raw_class else ""),
        "srcset": "",
        "diy-mod-image": _json_compact(edit.config),
        "diy-mod-custom": _json_compact({**edit.config, "intervention": edit.config.get("type")}),
    }
    if any(name == "data-lazy-srcset" for name, *_rest in spans):
        replacements["data-lazy-srcset"] = ""
    if not image.attributes.get("src"):
        replacements["src"] = replacements["data-lazy-src"] = image_url(image)
    return _start_tag_rewrite(source, tag, spans, replacements)


def _start_tag_rewrite(
    source: str,
    tag: Tag,
    spans: list[tuple[str, int, int, tuple[int, int] | None]],
    values: dict[str, str],
) -> str:
    """The start tag with each named attribute set (in place when present, else appended);
    every other byte of the tag is kept."""
    pieces, position, done = [], tag.start, set()
    for name, start, end, _value in spans:
        if name in values and name not in done:  # browsers read the first of duplicates
            pieces += [source[position:start], f'{name}="{attribute_value_escape(values[name])}"']
            position = end
            done.add(name)
    closing = tag.end - 1
    if source[tag.end - 2] == "/" and not (spans and spans[-1][2] > tag.end - 2):
        closing = tag.end - 2  # `/>`, unless the slash belongs to an unquoted value
    added = [f' {name}="{attribute_value_escape(value)}"' for name, value in values.items()
             if name not in done]  # fmt: skip
    kept = source[position:closing]
    pieces += [kept.rstrip(" ") if added else kept, *added, source[closing : tag.end]]
    return "".join(pieces)


def _json_compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _class_with_processed(raw_classes: str | None) -> str:
    classes = html.unescape(raw_classes or "")
    if PROCESSED_CLASS in classes.split():
        return classes
    return f"{classes} {PROCESSED_CLASS}".strip()


def splices_apply(source: str, splices: list[tuple[int, int, str]]) -> str:
    """`source` with each (start, end, text) span replaced; a splice overlapping an earlier
    one is dropped (an image inside a replaced body is gone anyway). No splice: `source`."""
    if not splices:
        return source
    pieces, position = [], 0
    for start, end, text in sorted(splices, key=lambda splice: (splice[0], -splice[1])):
        if start < position:
            continue
        pieces.append(source[position:start])
        pieces.append(text)
        position = end
    pieces.append(source[position:])
    return "".join(pieces)
