from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from imaging.dispatch import image_job_retry
from imaging.models import ImageJob, ImageRequest
from imaging.storage import image_result_url

THUMBNAIL = '<img src="{}" style="max-height:64px;max-width:96px" loading="lazy" alt="">'


class ImageRequestInline(admin.TabularInline):
    """Who asked for the job, with which filters, from which server address."""

    model = ImageRequest
    extra = 0
    can_delete = False
    fields = ["user", "filters", "base_url", "requested_at"]
    readonly_fields = ["user", "filters", "base_url", "requested_at"]


@admin.register(ImageJob)
class ImageJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "intervention",
        "input_thumbnail",
        "result_thumbnail",
        "attempts",
        "total_ms",
        "created_at",
    ]
    list_filter = ["status", "intervention"]
    search_fields = ["image_url", "error"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in ImageJob._meta.fields] + [
        "input_thumbnail",
        "result_thumbnail",
    ]
    inlines = [ImageRequestInline]
    actions = ["retry_jobs"]

    @admin.display(description="Input")
    def input_thumbnail(self, job: ImageJob) -> str:
        # The browser of the admin loads the original from the platform's CDN, not us.
        return format_html(THUMBNAIL, job.image_url)

    @admin.display(description="Result")
    def result_thumbnail(self, job: ImageJob) -> str:
        if job.status != ImageJob.Status.DONE or not job.result:
            return "-"
        return format_html(THUMBNAIL, image_result_url(job))

    @admin.action(description="Retry the selected jobs (failed or stuck)")
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[ImageJob]) -> None:
        count = sum(image_job_retry(job=job) for job in queryset)
        self.message_user(request, f"Re-queued {count} job(s).", messages.SUCCESS)
