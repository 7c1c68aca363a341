"""Small feeds of our own, shaped like the real payloads of CONTRACT section 3."""

from __future__ import annotations

import json

REDDIT_URL = "https://www.reddit.com/svc/shreddit/feeds/home-feed?after=abc"
X_URL = "https://x.com/i/api/graphql/abc123/HomeTimeline?variables=%7B%7D"


def shreddit_post(post_id: str, title: str, body: str = "", image: str = "") -> str:
    media = (
        f'<div slot="post-media-container"><img class="i18n-post-media-img" src="{image}" '
        f'alt="post image" srcset="{image} 640w"></div>'
        if image
        else ""
    )
    body_html = (
        f'<a slot="text-body" href="/r/t/{post_id}"><div class="md"><p>{body}</p></div></a>'
        if body
        else ""
    )
    return (
        f'<article data-post-id="{post_id}"><shreddit-post id="{post_id}" post-title="x" '
        f'author="someone" post-type="text" permalink="/r/t/comments/{post_id}/">'
        f'<a slot="title" id="post-title-{post_id}" href="/r/t/{post_id}">{title}</a>'
        f"{body_html}{media}</shreddit-post></article>"
    )


def reddit_feed(*posts: str) -> str:
    return (
        "<shreddit-feed>"
        + "".join(posts)
        + '<faceplate-partial loading="lazy" src="/svc/shreddit/feeds/home-feed?after=t3_z">'
        "</faceplate-partial></shreddit-feed>"
    )


def tweet(rest_id: str, text: str, photo: str = "") -> dict:
    legacy: dict = {"full_text": text, "display_text_range": [0, len(text)], "lang": "en"}
    if photo:
        media = [{"id_str": f"m{rest_id}", "media_url_https": photo, "type": "photo"}]
        legacy["entities"] = {"media": [dict(m) for m in media]}
        legacy["extended_entities"] = {"media": [dict(m) for m in media]}
    return {
        "entryId": f"tweet-{rest_id}",
        "sortIndex": rest_id,
        "content": {
            "entryType": "TimelineTimelineItem",
            "itemContent": {
                "itemType": "TimelineTweet",
                "tweet_results": {
                    "result": {"__typename": "Tweet", "rest_id": rest_id, "legacy": legacy}
                },
            },
        },
    }


def x_timeline(*entries: dict) -> str:
    body = {
        "data": {
            "home": {
                "home_timeline_urt": {
                    "instructions": [{"type": "TimelineAddEntries", "entries": list(entries)}]
                }
            }
        }
    }
    return json.dumps(body, separators=(",", ":"))
