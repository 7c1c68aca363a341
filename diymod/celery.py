"""The Celery app. Settings come from Django's (CELERY_*); tasks live in each app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diymod.settings")

app = Celery("diymod")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _task_logging_connect(**kwargs: object) -> None:
    from diymod.observability import task_signals_connect

    task_signals_connect()
