from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from freezegun import freeze_time

from diymod.celery import app as celery_app
from filters.models import Filter
from filters.selectors import filter_list_active, token_user_get
from filters.services import filter_create, user_get_or_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    from filters.models import User

    admin = User.objects.create_superuser("root-admin", "pw")
    client.force_login(admin)
    return client


@pytest.fixture
def alice_filters():
    alice = user_get_or_create(user_id="alice")
    with freeze_time("2026-01-01"):
        filter_create(owner=alice, filter_text="today only", duration="day")
    return [filter_create(owner=alice, filter_text="spiders", intensity=5)]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/filters/user/",
        "/admin/filters/filter/",
        "/admin/filters/filter/?expiry=expired",
        "/admin/filters/filter/?expiry=temporary&content_type__exact=all",
        "/admin/filters/filter/?q=spiders",
        "/admin/filters/apitoken/",
    ],
)
def test_admin_pages_render(admin_client, alice_filters, path):
    response = admin_client.get(path)
    assert response.status_code == 200


def test_admin_user_list_shows_filter_counts(admin_client, alice_filters):
    content = admin_client.get("/admin/filters/user/").content.decode()
    assert "alice" in content and ">2<" in content


def test_admin_expire_and_reactivate_actions(admin_client, alice_filters):
    (spiders,) = alice_filters
    url = "/admin/filters/filter/"
    admin_client.post(url, {"action": "expire_now", "_selected_action": [spiders.id]})
    spiders.refresh_from_db()
    assert not spiders.is_active
    admin_client.post(url, {"action": "reactivate", "_selected_action": [spiders.id]})
    spiders.refresh_from_db()
    assert spiders.is_active


def test_expire_filters_command_deactivates_due_filters_and_says_how_many(alice_filters):
    out = StringIO()
    call_command("expire_filters", stdout=out)
    assert out.getvalue().strip() == "Expired 1 filter(s)."
    assert Filter.objects.filter(is_active=False).count() == 1
    out = StringIO()
    call_command("expire_filters", stdout=out)
    assert "Expired 0" in out.getvalue()


def test_expiry_runs_hourly_on_beat():
    entry = celery_app.conf.beat_schedule["filters-expire-hourly"]
    assert entry["task"] == "filters.tasks.filters_expire"
    assert entry["schedule"] == 3600.0
    celery_app.loader.import_default_modules()  # what a worker does at start-up
    assert "filters.tasks.filters_expire" in celery_app.tasks


def test_expired_filters_are_not_used_even_before_the_command_runs(alice_filters):
    alice = user_get_or_create(user_id="alice")
    assert [f.filter_text for f in filter_list_active(user=alice)] == ["spiders"]


def test_issue_token_prints_a_token_of_that_user():
    out = StringIO()
    call_command("issue_token", "carol", stdout=out)
    user = token_user_get(raw_token=out.getvalue().strip())
    assert user is not None and user.user_id == "carol"


def test_createsuperuser_works_non_interactively(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-pass")
    call_command("createsuperuser", "--noinput", "--user_id", "ops", stdout=StringIO())
    from filters.models import User

    assert User.objects.get(user_id="ops").is_superuser


@pytest.mark.parametrize(
    "fields",
    [
        {"intensity": 0},
        {"intensity": 6},
        {"content_type": "video"},
        {"filter_text": ""},
        {"duration": "week", "is_temporary": True, "expires_at": None},
        {"duration": "permanent", "is_temporary": True},
    ],
)
def test_database_constraints_hold_the_invariants(fields):
    alice = user_get_or_create(user_id="alice")
    values = {"owner": alice, "filter_text": "x", **fields}
    with pytest.raises(IntegrityError), transaction.atomic():
        Filter.objects.create(**values)
