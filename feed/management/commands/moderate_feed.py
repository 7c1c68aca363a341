from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from diymod.errors import ApplicationError
from feed.services import FeedResult, feed_moderate
from filters.services import filter_create, user_get_or_create


class Command(BaseCommand):
    help = (
        "Run the feed pipeline on a saved payload (Reddit HTML or X JSON) and print what "
        "matched and what was done. With --filter, the given filters are used for this run only "
        "and nothing is saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--url", required=True, help="The request URL the feed came from.")
        parser.add_argument("--user", required=True, help="The user_id whose filters apply.")
        parser.add_argument("--filter", action="append", default=[], dest="filters")
        parser.add_argument("--intensity", type=int, default=3, choices=range(1, 6))
        parser.add_argument("--content-type", default="all", choices=["text", "image", "all"])
        parser.add_argument("--out", type=Path, help="Write the moderated feed here.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            body = options["file"].read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from error
        try:
            result = self.moderate(body, options)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.report(result)
        if options["out"]:
            options["out"].write_text(result.response, encoding="utf-8")
            self.stdout.write(f"wrote {options['out']}")

    def moderate(self, body: str, options: dict[str, Any]) -> FeedResult:
        with transaction.atomic():
            user = user_get_or_create(user_id=options["user"])
            for text in options["filters"]:
                filter_create(
                    owner=user,
                    filter_text=text,
                    intensity=options["intensity"],
                    content_type=options["content_type"],
                )
            result = feed_moderate(user=user, url=options["url"], body=body)
            # Filters given on the command line are for this run only.
            transaction.set_rollback(bool(options["filters"]))
        return result

    def report(self, result: FeedResult) -> None:
        for post in result.posts:
            passages = "; ".join(p[:60] for p in post.passages) or "-"
            self.stdout.write(
                f"{post.id}: {post.intervention or 'image'} by {', '.join(post.filters)} "
                f"(confidence {post.confidence}) images={post.images} passages: {passages}"
            )
        stats = result.stats
        self.stdout.write(
            f"posts={stats.get('posts')} matched={stats.get('matched')} "
            f"cache_hits={stats.get('cache_hits')} model_calls={stats.get('model_calls')} "
            f"images={stats.get('images')} time={stats.get('milliseconds')} ms"
        )
        if result.degraded:
            self.stdout.write(f"degraded: {result.degraded_reason}")
