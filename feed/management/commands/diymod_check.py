"""`manage.py diymod_check --url http://host:port [--user ID] [--token T] [--full] [--json]`

The operator's end-to-end check of a running server (see `diymod.check`). It speaks only HTTP
and WebSocket to `--url`, so it checks remote deployments too. Exit status: 0 passed, 1 a step
failed, 2 usage error.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diymod.check.cli import (
    DESCRIPTION,
    EXIT_USAGE,
    UsageError,
    arguments_add,
    check_main,
    options_from,
)


class Command(BaseCommand):
    help = DESCRIPTION
    # The check talks to a server over the network; it needs no local database or checks.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        arguments_add(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check_options = options_from(options)
        except UsageError as error:
            raise CommandError(str(error), returncode=EXIT_USAGE) from error
        exit_status = check_main(check_options, as_json=options["json"], write=self.line_write)
        if exit_status:
            raise SystemExit(exit_status)

    def line_write(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
