from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from filters.models import Filter
from filters.services import filter_create, user_get_or_create
from tests.feed.samples import REDDIT_URL, reddit_feed, shreddit_post

pytestmark = pytest.mark.django_db

FEED = reddit_feed(
    shreddit_post("t3_s", "A spider in the sink", "It was enormous and hairy."),
    shreddit_post("t3_c", "Cat pictures", "Fluffy."),
)


@pytest.fixture
def saved_feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.html"
    path.write_text(FEED)
    return path


def test_moderate_feed_reports_matches_and_timings_with_temporary_filters(saved_feed, tmp_path):
    out = StringIO()
    moderated = tmp_path / "out.html"
    call_command(
        "moderate_feed",
        str(saved_feed),
        "--url",
        REDDIT_URL,
        "--user",
        "ops",
        "--filter",
        "spiders",
        "--intensity",
        "3",
        "--out",
        str(moderated),
        stdout=out,
    )
    report = out.getvalue()
    assert "t3_s: overlay by spiders" in report
    assert "t3_c" not in report
    assert "posts=2 matched=1" in report and " ms" in report
    assert "__OVERLAY_START__" in moderated.read_text()
    assert not Filter.objects.exists()  # command-line filters are for that run only


def test_moderate_feed_uses_the_users_saved_filters(saved_feed):
    filter_create(owner=user_get_or_create(user_id="ops"), filter_text="spiders", intensity=1)
    out = StringIO()
    call_command(
        "moderate_feed", str(saved_feed), "--url", REDDIT_URL, "--user", "ops", stdout=out
    )
    assert "t3_s: blur by spiders" in out.getvalue()


def test_moderate_feed_refuses_an_unsupported_url(saved_feed):
    with pytest.raises(CommandError, match="Unsupported platform"):
        call_command(
            "moderate_feed", str(saved_feed), "--url", "https://example.com/", "--user", "ops"
        )


def test_moderate_feed_says_when_the_file_is_missing(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command(
            "moderate_feed", str(tmp_path / "nope.html"), "--url", REDDIT_URL, "--user", "ops"
        )
