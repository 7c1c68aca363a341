"""The one feed-request parser, for `POST /get_feed` bodies and `process_feed` payloads."""

from __future__ import annotations

import json

import pytest

from diymod.errors import ApplicationError
from feed.consumers.messages import message_payload
from feed.requests import HTTP, SOCKET, FeedRequest, feed_request_parse

URL = "https://www.reddit.com/svc/shreddit/feeds/home-feed"
FEED = "<shreddit-post>x</shreddit-post>"
DATA = {"feed_info": {"response": FEED}}


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "alice", "url": URL, "data": DATA},  # client B
        {"user_id": "alice", "url": URL, "data": json.dumps(DATA)},  # client A
        {"user_id": "alice", "url": URL, "data": DATA, "tab_id": 3, "useBatching": True},
    ],
)
def test_both_http_body_shapes_give_the_same_request(body):
    assert feed_request_parse(body, HTTP) == FeedRequest(URL, FEED, claimed_user_id="alice")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "Request body must be a JSON object."),
        ({"data": DATA}, "url: This field is required (the intercepted request URL)."),
        ({"url": "", "data": DATA}, "url: This field is required (the intercepted request URL)."),
        ({"url": URL, "data": "{not json"}, "data: not valid JSON."),
        ({"url": URL, "data": "[" * 100_000}, "data: nested too deeply."),
        ({"url": URL}, "data.feed_info: This field is required."),
        ({"url": URL, "data": {}}, "data.feed_info: This field is required."),
        ({"url": URL, "data": {"response": FEED}}, "data.feed_info: This field is required."),
        ({"url": URL, "response": FEED}, "data.feed_info: This field is required."),
        (
            {"url": URL, "data": {"feed_info": {"response": 5}}},
            "data.feed_info.response: must be a non-empty string.",
        ),
        (
            {"url": URL, "data": {"feed_info": {"response": ""}}},
            "data.feed_info.response: must be a non-empty string.",
        ),
    ],
)
def test_a_bad_http_body_is_refused_naming_the_field(body, message):
    with pytest.raises(ApplicationError) as raised:
        feed_request_parse(body, HTTP)
    assert raised.value.message == message


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "process_feed", "requestId": "r", "data": {"url": URL, "response": FEED}},
        {"type": "process_feed", "requestId": "r", "url": URL, "response": FEED},
        {
            "type": "process_feed",
            "data": json.dumps({"url": URL, "platform": "reddit", "response": FEED}),
        },
        {"type": "process_feed", "data": {"url": URL, "feed_info": {"response": FEED}}},
    ],
)
def test_every_socket_payload_shape_gives_the_same_request(frame):
    parsed = feed_request_parse(message_payload(frame), SOCKET)
    assert (parsed.url, parsed.body) == (URL, FEED)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"response": FEED}, "data.url: the intercepted request URL is required"),
        ({"url": 5, "response": FEED}, "data.url: the intercepted request URL is required"),
        ({"url": URL}, "data.response: the feed body (a string) is required"),
        ({"url": URL, "response": ""}, "data.response: the feed body (a string) is required"),
        ({"url": URL, "response": ["x"]}, "data.response: the feed body (a string) is required"),
        ({"url": URL, "feed_info": {}}, "data.response: the feed body (a string) is required"),
    ],
)
def test_a_bad_socket_payload_is_refused_naming_the_field(payload, message):
    with pytest.raises(ApplicationError) as raised:
        feed_request_parse(payload, SOCKET)
    assert raised.value.message == message
