"""The web side of the real-worker tests and the images benchmark, run as a subprocess with the
same environment as the worker (REDIS_URL, a file DATABASE_URL):

    python -m tests.imaging.worker_scenario migrate
    python -m tests.imaging.worker_scenario request QUEUE < requests.json   # prints job ids
    python -m tests.imaging.worker_scenario requeue QUEUE                    # stuck after 0 s

`requests.json` is a list of {"user_pk", "image_url", "filters"}; users are created with those
primary keys (so that the test knows their channel-layer groups in advance). QUEUE keeps the
test's messages apart from any other worker using the same Redis.
"""

from __future__ import annotations

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diymod.settings")


def queue_use(queue: str) -> None:
    from diymod.celery import app

    app.conf.task_default_queue = queue


def jobs_request(requests: list[dict]) -> dict[str, int]:
    from django.db import transaction

    from filters.models import User
    from imaging.requests import image_job_request

    job_ids: dict[str, int] = {}
    for item in requests:
        user, _ = User.objects.get_or_create(
            pk=item["user_pk"], defaults={"user_id": f"it-{item['user_pk']}"}
        )
        with transaction.atomic():  # queued after commit, as in a view
            job = image_job_request(
                user=user, image_url=item["image_url"], filter_texts=item["filters"], intensity=4
            )
        job_ids[item["image_url"]] = job.pk
    return job_ids


def main(arguments: list[str]) -> None:
    django.setup()
    command = arguments[0]
    if command == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        return
    queue_use(arguments[1])
    if command == "request":
        print(json.dumps(jobs_request(json.load(sys.stdin))), flush=True)
    elif command == "requeue":
        from imaging.dispatch import image_jobs_requeue_stuck

        print(json.dumps({"requeued": image_jobs_requeue_stuck(stuck_seconds=0)}), flush=True)
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
