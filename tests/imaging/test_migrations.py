"""The migration to per-user image requests (issue 12, item 3) keeps every existing requester."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("imaging", "0001_initial")]
AFTER = [("imaging", "0002_image_requests")]


def migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_every_former_requester_becomes_a_request_of_the_same_job() -> None:
    old = migrate(BEFORE)
    User = old.get_model("filters", "User")
    ImageJob = old.get_model("imaging", "ImageJob")
    alice = User.objects.create(user_id="m-alice")
    bob = User.objects.create(user_id="m-bob")
    job = ImageJob.objects.create(
        image_url="https://i.redd.it/m.jpg",
        url_hash="a" * 64,
        filter_key="b" * 64,
        filters=["spiders"],
        intervention="blur",
        base_url="http://creator.example",
    )
    job.requesters.add(alice, bob)

    new = migrate(AFTER)

    ImageRequest = new.get_model("imaging", "ImageRequest")
    requests = ImageRequest.objects.filter(job_id=job.pk).order_by("user__user_id")
    assert [(r.user.user_id, r.url_hash, r.filter_key, r.filters) for r in requests] == [
        ("m-alice", "a" * 64, "b" * 64, ["spiders"]),
        ("m-bob", "a" * 64, "b" * 64, ["spiders"]),
    ]
    assert all(r.base_url == "" for r in requests)  # the creator's address is nobody else's
