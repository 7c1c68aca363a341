from __future__ import annotations

from celery import shared_task

from filters.services import filters_expire


@shared_task(name="filters.tasks.filters_expire")
def filters_expire_task() -> int:
    return filters_expire()
