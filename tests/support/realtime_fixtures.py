"""Helpers for socket and push tests: a fresh in-memory channel layer, opening sockets."""

from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator

REDDIT_ORIGIN = [(b"origin", b"https://www.reddit.com")]


def in_memory_layer_use(settings: Any) -> None:
    """A new, empty in-memory layer per test (changing the setting drops the cached layer), so
    no group membership or queued push leaks between tests, whatever REDIS_URL says."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


async def socket_open(
    path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> WebsocketCommunicator:
    """A connected communicator against the real ASGI application (fails if refused)."""
    from diymod.asgi import application

    communicator = WebsocketCommunicator(
        application, path, headers=REDDIT_ORIGIN if headers is None else headers
    )
    connected, code = await communicator.connect(timeout=5)
    assert connected, f"{path} was refused (close code {code})"
    return communicator


async def socket_refused(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> bool:
    from diymod.asgi import application

    communicator = WebsocketCommunicator(
        application, path, headers=REDDIT_ORIGIN if headers is None else headers
    )
    connected, _ = await communicator.connect(timeout=5)
    if connected:
        await communicator.disconnect()
    return not connected
