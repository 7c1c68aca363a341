from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from filters.services import token_issue, user_get_or_create


class Command(BaseCommand):
    help = "Issue a new API token for a user (created if new) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id")
        parser.add_argument("--name", default="cli", help="A label to recognise the token by.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_get_or_create(user_id=options["user_id"])
        self.stdout.write(token_issue(user=user, name=options["name"]))
