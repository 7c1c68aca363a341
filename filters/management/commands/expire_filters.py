from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from filters.services import filters_expire


class Command(BaseCommand):
    help = "Deactivate every filter whose duration has run out."

    def handle(self, *args: Any, **options: Any) -> None:
        count = filters_expire()
        self.stdout.write(f"Expired {count} filter(s).")
