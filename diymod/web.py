"""`python -m diymod.web [daphne options]`: daphne as deployed (Makefile, Procfile, benchmarks).

One place for the server options the deployment depends on: WebSocket message limits large
enough for feeds sent over the socket (daphne's default 1 MiB would drop them) and the keep-alive
ping cadence of DIYMOD_WS_PING_INTERVAL_SECONDS / DIYMOD_WS_PING_TIMEOUT_SECONDS. Options given on
the command line (`-b`, `-p`, ...) come after these and win.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daphne.cli import CommandLineInterface

# 16 MiB: twice DIYMOD_FEED_MAX_BYTES' default, so a feed near the limit fits in one message.
WEBSOCKET_MAX_BYTES = 16 * 1024 * 1024
# An HTTP request body reaches Django in pieces of this size: with daphne's 8 KiB a 1.4 MB feed
# came as about 170 ASGI messages, each queued, awaited and copied on its own.
REQUEST_BUFFER_BYTES = 1024 * 1024
APPLICATION = "diymod.asgi:application"


def daphne_argv(options: list[str]) -> list[str]:
    from django.conf import settings

    return [
        "--websocket-max-message-size",
        str(WEBSOCKET_MAX_BYTES),
        "--websocket-max-frame-size",
        str(WEBSOCKET_MAX_BYTES),
        "--ping-interval",
        str(settings.DIYMOD_WS_PING_INTERVAL_SECONDS),
        "--ping-timeout",
        str(settings.DIYMOD_WS_PING_TIMEOUT_SECONDS),
        *options,
        APPLICATION,
    ]


def command_line() -> CommandLineInterface:
    """daphne's command line, building its server with feed-sized request pieces (the CLI has
    no option for them)."""
    from daphne.cli import CommandLineInterface
    from daphne.server import Server

    class FeedSizedServer(Server):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("request_buffer_size", REQUEST_BUFFER_BYTES)
            super().__init__(*args, **kwargs)

    interface = CommandLineInterface()
    interface.server_class = FeedSizedServer
    return interface


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diymod.settings")
    command_line().run(daphne_argv(sys.argv[1:]))


if __name__ == "__main__":
    main()
