"""Users' requests of image jobs: asking (deduplicated, capped per post and feed), waiting, and
the `diy-mod-image` object a feed carries meanwhile (CONTRACT sections 5 and 6)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from filters.models import User
from imaging.dispatch import image_job_dispatch_on_commit, image_job_is_stuck, image_job_requeue
from imaging.models import ImageJob, ImageRequest
from imaging.selectors import filter_key_make, image_request_find, url_hash_make
from imaging.storage import image_result_lost, image_result_url
from imaging.transforms import intervention_choose

# A request asked again within this many seconds (same base URL) is not written again.
REQUEST_REFRESH_SECONDS = 60
CONFIG_TYPE = "cartoonish"  # the only deferred type the extension knows (CONTRACT section 5)


def image_job_request(
    *,
    user: User,
    image_url: str,
    filter_texts: list[str],
    intensity: int,
    intervention: str | None = None,
    base_url: str = "",
) -> ImageJob:
    """The job that makes this picture (image, filter set, intervention), created and queued
    (after commit) when new, and `user`'s own request of it recorded (with their validated
    `base_url`) so the push and /get_img_result reach them and only them. Never queues twice:
    the unique constraint decides between concurrent creators."""
    url_hash, filter_key, chosen = image_job_key(
        image_url=image_url,
        filter_texts=filter_texts,
        intensity=intensity,
        intervention=intervention,
    )
    with transaction.atomic():
        job, created = ImageJob.objects.get_or_create(
            url_hash=url_hash,
            filter_key=filter_key,
            intervention=chosen,
            defaults={"image_url": image_url, "filters": filters_kept(filter_texts)},
        )
        image_request_record(
            user=user, job=job, filter_texts=filter_texts, base_url=base_url, move=True
        )
        if created:
            image_job_dispatch_on_commit(job_id=job.pk)
        else:
            image_job_heal(job)
    return job


JobKey = tuple[str, str, str]  # (url hash, filter key, intervention): one job each


def image_job_key(
    *, image_url: str, filter_texts: list[str], intensity: int, intervention: str | None
) -> JobKey:
    chosen = intervention_choose(intensity=intensity, requested=intervention)
    return url_hash_make(image_url), filter_key_make(filter_texts), chosen


def filters_kept(filter_texts: list[str]) -> list[str]:
    """The filter texts a job or request records (blank ones dropped)."""
    return [text for text in filter_texts if text.strip()]


def image_job_heal(job: ImageJob) -> None:
    """Requeue an existing job whose dispatch was lost (a restart of the embedded server, a
    broker outage) even where no beat process runs the sweep, or whose result file is gone."""
    if image_job_is_stuck(job) or image_result_lost(job):
        if image_job_requeue(job=job):
            job.status = ImageJob.Status.QUEUED


def image_requests_allowed(*, wanted: int, already_in_feed: int) -> int:
    """How many of a post's `wanted` images may ask for a job: at most DIYMOD_IMAGES_PER_POST
    per post and DIYMOD_IMAGES_PER_FEED per feed (`already_in_feed` marked so far), so one
    hostile post of 3,000 images cannot queue 3,000 jobs. Images past the cap are left as they
    are (the post's text marker still shows)."""
    per_post, per_feed = settings.DIYMOD_IMAGES_PER_POST, settings.DIYMOD_IMAGES_PER_FEED
    return max(0, min(wanted, per_post, per_feed - already_in_feed))


def image_request_record(
    *, user: User, job: ImageJob, filter_texts: list[str], base_url: str, move: bool
) -> ImageRequest:
    """`user`'s request of (image, filter set): made, or pointed at `job` when `move` (their
    filter's treatment changed), its base URL refreshed when one is given."""
    request, created = ImageRequest.objects.get_or_create(
        user=user,
        url_hash=job.url_hash,
        filter_key=job.filter_key,
        defaults={
            "job": job,
            "filters": filters_kept(filter_texts),
            "base_url": base_url[:255],
        },
    )
    if created:
        return request
    now, moving = timezone.now(), move and request.job_id != job.pk
    if not moving and not image_request_stale(request, base_url=base_url, now=now):
        return request
    changes: dict[str, object] = {"requested_at": now}
    if moving:
        changes["job"] = job
    if base_url:
        changes["base_url"] = base_url[:255]
    ImageRequest.objects.filter(pk=request.pk).update(**changes)
    return request


def image_request_stale(request: ImageRequest, *, base_url: str, now: datetime) -> bool:
    """Whether asking again must write: a request asked within REQUEST_REFRESH_SECONDS with the
    same base URL is left as it is, so a feed seen again writes nothing (issue 18: the warm
    feed). "Newest request" (`image_request_find` without filters) is thereby exact to within
    that window."""
    if base_url and request.base_url != base_url[:255]:
        return True
    return (now - request.requested_at).total_seconds() >= REQUEST_REFRESH_SECONDS


def image_job_wait(
    *, user: User, image_url: str, filter_texts: list[str], base_url: str = ""
) -> ImageJob | None:
    """The job a socket of `user` waits for (CONTRACT section 6, `wait_for_image`): the one
    they asked for themselves (their socket's validated `base_url` is kept for their push);
    None when they never asked, whoever else did."""
    request = image_request_find(user=user, image_url=image_url, filter_texts=filter_texts)
    if request is None:
        return None
    if base_url and request.base_url != base_url[:255]:
        ImageRequest.objects.filter(pk=request.pk).update(base_url=base_url[:255])
    return request.job


def image_config_for(
    job: ImageJob, *, filter_texts: list[str], best_filter: str, base_url: str | None = None
) -> dict | None:
    """The `diy-mod-image` object of CONTRACT section 5 for this job: DEFERRED while pending,
    COMPLETED with the absolute result URL when done. None for a failed job: the image is then
    left as it is (the feed never breaks over an image we could not fetch)."""
    if job.status == ImageJob.Status.DONE:
        return {
            "type": CONFIG_TYPE,
            "status": "COMPLETED",
            "processedUrl": image_result_url(job, base_url),
        }
    if job.status == ImageJob.Status.FAILED:
        return None
    return {
        "type": CONFIG_TYPE,
        "status": "DEFERRED",
        "filters": list(filter_texts),
        "best_filter_name": best_filter,
    }
