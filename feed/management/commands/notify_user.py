"""`manage.py notify_user <user_id> <message>`: push a `notice` to every socket of a user.

For operators to test delivery end to end: with REDIS_URL set, it reaches the user's sockets on
every server process. Exits non-zero when the user is unknown or the channel layer failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diymod.realtime import Notice, send_to_user
from filters.models import User


class Command(BaseCommand):
    help = "Send a notice to every open socket of a user (tests realtime delivery)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", help="The extension's user_id (as the client sends it).")
        parser.add_argument("message", help="The text of the notice.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(user_id=options["user_id"]).first()
        if user is None:
            raise CommandError(f"No user with user_id {options['user_id']!r}")
        if not send_to_user(user.pk, Notice(message=options["message"])):
            raise CommandError("The push failed: is the channel layer (REDIS_URL) reachable?")
        self.stdout.write(f"Sent to the sockets of {user.user_id!r} (user pk {user.pk}).")
