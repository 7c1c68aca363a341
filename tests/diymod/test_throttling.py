"""Issue 12, item 6: rate limits that cannot be bypassed. X-Forwarded-For counts only from a
configured proxy (DIYMOD_TRUSTED_PROXIES, default none), and per-user limits count the user the
call resolves to, not the raw string it claimed."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from diymod.throttling import client_address

pytestmark = pytest.mark.django_db


def rates_set(settings: Any, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def proxies_trust(settings: Any, *entries: str) -> None:
    settings.DIYMOD_TRUSTED_PROXIES = list(entries)
    settings.DIYMOD_TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network(e) for e in entries]


def test_register_ignores_forwarded_headers_from_an_untrusted_peer(settings: Any) -> None:
    rates_set(settings, register="3/hour")
    client = APIClient()

    statuses = [
        client.post("/auth/register", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(25)
    ]

    assert statuses.count(201) + statuses.count(200) == 3
    assert statuses[3:] == [429] * 22


def test_behind_a_trusted_proxy_each_client_address_has_its_own_budget(settings: Any) -> None:
    rates_set(settings, register="2/hour")
    proxies_trust(settings, "127.0.0.1")
    client = APIClient()

    def register(forwarded: str) -> int:
        return client.post("/auth/register", HTTP_X_FORWARDED_FOR=forwarded).status_code

    first = [register("198.51.100.7") for _ in range(3)]
    # A spoofed entry in front of the proxy's own does not make a new client.
    spoofed = [register(f"10.9.9.{n}, 198.51.100.7") for n in range(3)]
    other = register("198.51.100.8")

    assert first[2] == 429 and spoofed == [429, 429, 429]
    assert other in (200, 201)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.1", "203.0.113.5", [], "192.0.2.1"),
        ("10.0.0.2", "203.0.113.5", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.2", "1.1.1.1, 203.0.113.5, 10.0.0.3", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "not-an-address", ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::7", ["::1"], "2001:db8::7"),
    ],
)
def test_the_client_address_is_the_nearest_untrusted_hop(
    settings: Any, peer: str, forwarded: str, trusted: list[str], expected: str
) -> None:
    proxies_trust(settings, *trusted)
    request = APIRequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_a_bad_trusted_proxy_entry_stops_the_server_at_start() -> None:
    import os
    import subprocess
    import sys

    environment = {**os.environ, "DIYMOD_TRUSTED_PROXIES": "10.0.0.0/8,not-a-network"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "diymod.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0 and "DIYMOD_TRUSTED_PROXIES" in result.stderr


def test_spacing_around_a_user_id_does_not_buy_a_fresh_chat_budget(settings: Any) -> None:
    rates_set(settings, chat="3/min")
    client = APIClient()

    statuses = [
        client.post("/chat", {"user_id": user_id, "message": "hi"}, format="json").status_code
        for user_id in ("alice", " alice", "alice ", "\talice\n")
    ]
    other = client.post("/chat", {"user_id": "bob", "message": "hi"}, format="json")

    assert statuses == [200, 200, 200, 429]
    assert other.status_code == 200


def test_a_numeric_user_id_and_its_text_share_one_budget(settings: Any) -> None:
    rates_set(settings, chat="2/min")
    client = APIClient()

    statuses = [
        client.post("/chat", {"user_id": user_id, "message": "hi"}, format="json").status_code
        for user_id in (12345, "12345", " 12345")
    ]

    assert statuses == [200, 200, 429]


def test_a_user_id_of_any_characters_is_counted_under_a_plain_cache_key(settings: Any) -> None:
    """The key carries a digest of who is counted, never their raw text (memcached refuses
    control characters, spaces and keys over 250 bytes; Django warns of them)."""
    import warnings

    from django.core.cache.backends.base import CacheKeyWarning

    rates_set(settings, chat="2/min")
    client = APIClient()
    hostile = "/\U00044d0a &\x7f:" + "é" * 40

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        statuses = [
            client.post("/chat", {"user_id": hostile, "message": "hi"}, format="json").status_code
            for _ in range(3)
        ]

    assert statuses == [200, 200, 429]
