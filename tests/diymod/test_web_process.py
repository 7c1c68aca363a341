"""The web process as deployed: daphne's options and the collector tuning (issue 18)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from django.test import override_settings

from diymod.web import REQUEST_BUFFER_BYTES, WEBSOCKET_MAX_BYTES, command_line, daphne_argv


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@override_settings(DIYMOD_WS_PING_INTERVAL_SECONDS=45, DIYMOD_WS_PING_TIMEOUT_SECONDS=30)
def test_daphne_gets_the_keep_alive_cadence_and_feed_sized_messages_from_settings():
    argv = daphne_argv(["-b", "127.0.0.1", "-p", "9000"])
    assert option(argv, "--ping-interval") == "45"
    assert option(argv, "--ping-timeout") == "30"
    assert int(option(argv, "--websocket-max-message-size")) == WEBSOCKET_MAX_BYTES
    assert WEBSOCKET_MAX_BYTES >= 8 * 1024 * 1024  # a feed at DIYMOD_FEED_MAX_BYTES fits
    assert argv[-1] == "diymod.asgi:application"


def test_command_line_options_come_after_the_deployed_ones_so_they_win():
    argv = daphne_argv(["--ping-interval", "5"])
    assert argv.index("5") > argv.index(str(WEBSOCKET_MAX_BYTES))
    assert argv[-2:] == ["5", "diymod.asgi:application"]


def test_the_server_reads_a_feed_sized_request_in_few_pieces():
    server = command_line().server_class(
        application=None, endpoints=["tcp:port=0:interface=127.0.0.1"]
    )
    assert server.request_buffer_size == REQUEST_BUFFER_BYTES >= 1024 * 1024  # daphne: 8 KiB


def entry_point_collector(env: dict[str, str]) -> str:
    """What the ASGI entry point leaves the collector with, in a fresh interpreter."""
    script = "import gc, diymod.asgi; print(gc.get_threshold(), gc.get_freeze_count() > 0)"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DIYMOD_WARM_ANALYZER": "0", "DJANGO_SETTINGS_MODULE": "diymod.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout.strip().splitlines()[-1]


def test_the_entry_point_freezes_start_up_objects_and_sets_the_thresholds():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIYMOD_GC")}
    assert entry_point_collector(env) == "(50000, 20, 100) True"


def test_the_collector_tuning_can_be_turned_off():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIYMOD_GC")}
    env.update(DIYMOD_GC_FREEZE="0", DIYMOD_GC_THRESHOLDS="700,10,10")
    assert entry_point_collector(env) == "(700, 10, 10) False"
    assert gc.isenabled()
