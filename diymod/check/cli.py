"""Arguments of `manage.py diymod_check` (and `python -m diymod.check`), shared by both.

Exit codes: 0 all steps passed, 1 a step failed (the first failure ends the run), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from diymod.check.basic_steps import local_network_access_find
from diymod.check.render import header_line, report_json, step_line, verdict_line
from diymod.check.report import (
    DEFAULT_IMAGE_TIMEOUT_SECONDS,
    DEFAULT_STEP_TIMEOUT_SECONDS,
    CheckOptions,
)
from diymod.check.runner import check_run

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}

DESCRIPTION = (
    "End-to-end check of a running DIY-MOD server over HTTP and WebSocket only (works from "
    "another machine): /ping, /healthz, the socket (/ws/<user> with the extension's Origin: "
    "connection, ping, process_feed). --full also sends a feed with an image through the image "
    "pipeline: a temporary filter, /get_feed, image_processed on the socket, /get_img_result "
    "and the result image, then a gallery post's slide 2 by its src. The image is served by "
    "the check itself; the server fetches images "
    "only from DIYMOD_IMAGE_ALLOWED_HOSTS and refuses loopback and private addresses, so run "
    "the server with DIYMOD_IMAGE_ALLOWED_HOSTS including <serve-host>:<serve-port> (pick a "
    "fixed --serve-port) and DIYMOD_IMAGE_ALLOW_PRIVATE=1 when that address is private, or pass "
    "--image-url with an image the deployment may fetch. Exit status: 0 passed, 1 a step "
    "failed, 2 usage error."
)


class UsageError(ValueError):
    """Arguments that cannot make a check (exit status 2)."""


def arguments_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="The server's base URL: http(s)://host:port")
    parser.add_argument(
        "--user", help="user_id to check as (default: a fresh diymod-check-<random>)"
    )
    parser.add_argument(
        "--token", help="API token: sent as 'Authorization: Bearer' and ?token= (needs --user)"
    )
    parser.add_argument("--full", action="store_true", help="Also check the image pipeline")
    parser.add_argument("--json", action="store_true", help="Print one JSON object (scripts)")
    parser.add_argument(
        "--image-url",
        help="--full: an image URL the server may fetch, instead of the check serving one",
    )
    parser.add_argument(
        "--serve-host",
        default="127.0.0.1",
        help="--full: address to serve the check's image on, as the server reaches it "
        "(default 127.0.0.1)",
    )
    parser.add_argument(
        "--serve-port",
        type=int,
        default=0,
        help="--full: port for the check's image (default: any free one); the server must allow "
        "<serve-host>:<serve-port> in DIYMOD_IMAGE_ALLOWED_HOSTS",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_IMAGE_TIMEOUT_SECONDS,
        help="--full: seconds to wait for image_processed "
        f"(default {DEFAULT_IMAGE_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=DEFAULT_STEP_TIMEOUT_SECONDS,
        help="seconds for each HTTP call or socket reply "
        f"(default {DEFAULT_STEP_TIMEOUT_SECONDS:g})",
    )


def base_url_clean(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url must be http(s)://host[:port], not {url!r}")
    if parts.query or parts.fragment:
        raise UsageError(f"--url takes no query or fragment: {url!r}")
    return url.rstrip("/")


def image_url_clean(url: str | None, full: bool) -> str | None:
    if url is None:
        return None
    if not full:
        raise UsageError("--image-url is only used by --full")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise UsageError(f"--image-url must be an absolute http(s) URL, not {url!r}")
    return url


def options_from(arguments: dict[str, Any]) -> CheckOptions:
    """CheckOptions from parsed arguments (argparse names); UsageError when they cannot work."""
    token, user_id = arguments.get("token"), arguments.get("user")
    if token and not user_id:
        raise UsageError("--token needs --user: the token's own user_id")
    for name in ("timeout", "step_timeout"):
        if not arguments[name] > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be more than 0 seconds")
    if arguments["serve_host"] in WILDCARD_HOSTS:
        raise UsageError("--serve-host must be an address the server can reach, not a wildcard")
    if not 0 <= arguments["serve_port"] <= 65535:
        raise UsageError("--serve-port must be 0-65535")
    return CheckOptions(
        url=base_url_clean(arguments["url"]),
        user_id=user_id or f"diymod-check-{secrets.token_hex(6)}",
        token=token or None,
        full=bool(arguments["full"]),
        image_url=image_url_clean(arguments.get("image_url"), bool(arguments["full"])),
        serve_host=arguments["serve_host"],
        serve_port=arguments["serve_port"],
        image_timeout=arguments["timeout"],
        step_timeout=arguments["step_timeout"],
    )


def check_main(options: CheckOptions, *, as_json: bool, write: Callable[[str], None]) -> int:
    """Run the check, write its report, return the exit status."""
    # httpx logs every request at INFO; the report already says what each request did.
    for name in ("httpx", "httpcore", "websockets"):
        logging.getLogger(name).setLevel(logging.WARNING)
    access = local_network_access_find(options.url)
    if as_json:
        report = check_run(options)
        report.local_network_access = access
        write(report_json(report))
    else:
        write(header_line(options))
        if access is not None:
            write(f"  note  {access.note}")
        report = check_run(options, on_step=lambda result: write(step_line(result)))
        write(verdict_line(report))
    return EXIT_OK if report.ok else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m diymod.check ...` without Django."""
    parser = argparse.ArgumentParser(prog="python -m diymod.check", description=DESCRIPTION)
    arguments_add(parser)
    arguments = vars(parser.parse_args(argv))  # argparse itself exits 2 on bad arguments
    try:
        options = options_from(arguments)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return check_main(options, as_json=arguments["json"], write=line_print)


def line_print(line: str) -> None:
    print(line, flush=True)
