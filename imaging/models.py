from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImageJob(models.Model):
    """One transformation of one image for one filter set (DESIGN.md, "Images").

    The row is the source of truth: the Celery message only carries its id. One row per
    (image URL, normalised filter set), enforced by the database, so the same picture seen by
    many people, or many times, is fetched and transformed once.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    # The exact string the client sent or the server emitted: pushes echo it byte for byte.
    image_url = models.TextField()
    # URLs can be longer than an index allows; the uniqueness is on this hash.
    url_hash = models.CharField(max_length=64, db_index=True)
    filter_key = models.CharField(max_length=64, help_text="sha256 of the sorted filter texts")
    filters = models.JSONField(default=list, help_text="Filter texts as first requested")
    intervention = models.CharField(max_length=20)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    result = models.CharField(max_length=255, blank=True, help_text="Path under MEDIA_ROOT")
    result_width = models.PositiveIntegerField(null=True, blank=True)
    result_height = models.PositiveIntegerField(null=True, blank=True)
    result_bytes = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The base URL of the request that created the job, for absolute result URLs when
    # DIYMOD_PUBLIC_URL is not set (workers have no request of their own).
    base_url = models.CharField(max_length=255, blank=True)
    requesters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="image_jobs", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetch_ms = models.PositiveIntegerField(null=True, blank=True)
    transform_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="From first queued to done or failed"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["url_hash", "filter_key"], name="image_job_unique"),
        ]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.intervention} {self.image_url[:80]} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
