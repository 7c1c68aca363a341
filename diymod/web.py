"""`python -m diymod.web [daphne options]`: daphne as deployed (Makefile, Procfile, benchmarks).

One place for the server options the deployment depends on: WebSocket message limits large
enough for feeds sent over the socket (daphne's default 1 MiB would drop them) and the keep-alive
ping cadence of DIYMOD_WS_PING_INTERVAL_SECONDS / DIYMOD_WS_PING_TIMEOUT_SECONDS. Options given on
the command line (`-b`, `-p`, ...) come after these and win.
"""

from __future__ import annotations

import os
import sys

# 16 MiB: twice DIYMOD_FEED_MAX_BYTES' default, so a feed near the limit fits in one message.
WEBSOCKET_MAX_BYTES = 16 * 1024 * 1024
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


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diymod.settings")
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(daphne_argv(sys.argv[1:]))


if __name__ == "__main__":
    main()
