from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImageJob(models.Model):
    """One transformation of one image (DESIGN.md, "Images").

    The row is the source of truth: the Celery message only carries its id. One row per
    (image URL, normalised filter set, intervention), enforced by the database: everything that
    decides the output picture (the filter texts reach the image model's prompt), so two people
    share a job only when they would get the same picture, and that picture is fetched and
    transformed once. Who asked, with which filters and from which address, is one
    `ImageRequest` each: a requester never inherits another's choices or server address.
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
            models.UniqueConstraint(
                fields=["url_hash", "filter_key", "intervention"], name="image_job_output_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.intervention} {self.image_url[:80]} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def requesters(self) -> models.QuerySet:
        """The users who asked for this job (and only they get its push and its answer)."""
        from filters.models import User

        return User.objects.filter(image_requests__job=self).distinct()


class ImageRequest(models.Model):
    """One user's request of one image with one filter set: what /get_img_result and
    `wait_for_image` resolve (CONTRACT sections 2 and 6 name only the URL and the filters), and
    where that user's own result URL comes from. Asking again with another intervention moves
    the request to the other job."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="image_requests"
    )
    job = models.ForeignKey(ImageJob, on_delete=models.CASCADE, related_name="requests")
    url_hash = models.CharField(max_length=64)
    filter_key = models.CharField(max_length=64)
    filters = models.JSONField(default=list, help_text="Filter texts as this user sent them")
    # The validated base URL this user reached the server at (Host checked against
    # ALLOWED_HOSTS), for their absolute result URLs when DIYMOD_PUBLIC_URL is not set.
    base_url = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "url_hash", "filter_key"], name="image_request_unique"
            ),
        ]
        indexes = [models.Index(fields=["url_hash", "filter_key"])]

    def __str__(self) -> str:
        return f"{self.user_id} → job {self.job_id}"
