"""Celery's entry points for imaging (found by autodiscovery): the image-job task, defined with
the rest of a job's life and its retry policy in imaging/jobs.py, and the stuck-job sweep that
beat runs every minute."""

from __future__ import annotations

from celery import shared_task

from imaging.dispatch import image_jobs_requeue_stuck
from imaging.jobs import image_job_run_task

__all__ = ["image_job_run_task", "image_jobs_requeue_stuck_task"]


@shared_task(name="imaging.tasks.image_jobs_requeue_stuck")
def image_jobs_requeue_stuck_task() -> int:
    return image_jobs_requeue_stuck()
