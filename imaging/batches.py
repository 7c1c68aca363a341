"""A feed's image requests at once (CONTRACT section 5): `image_job_request` for every image
of every matched post in one transaction and a handful of queries, instead of one transaction
and three queries per image, with the same caps, requesters and dispatch after commit."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from filters.models import User
from imaging.dispatch import image_job_dispatch_on_commit
from imaging.models import ImageJob, ImageRequest
from imaging.requests import (
    JobKey,
    filters_kept,
    image_job_heal,
    image_job_key,
    image_job_request,
    image_request_stale,
    image_requests_allowed,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageAsk:
    """One image a feed asks a job for: `key` names its place in the feed (the per-feed cap
    counts distinct keys, as the feed counts its distinct image edits)."""

    key: Hashable
    image_url: str
    filter_texts: list[str]
    intensity: int
    intervention: str | None = None


def image_jobs_request(
    *, user: User, posts: Sequence[Sequence[ImageAsk]], base_url: str = ""
) -> list[list[ImageJob | None]]:
    """`image_job_request` for a whole feed, in one transaction and a handful of queries: per
    post, the jobs of its first images the caps allow (`image_requests_allowed`; a failed job
    does not count toward the feed's cap, as it gets no edit), None where an image's request
    failed. Should the batch fail (a concurrent creator won a unique constraint), the images
    are asked one by one instead, each in its own transaction."""
    try:
        with transaction.atomic():
            answers = _image_jobs_request(user=user, posts=posts, base_url=base_url)
    except Exception:
        logger.warning("batched image job request failed; asking one by one", exc_info=True)
        answers = _image_jobs_request_each(user=user, posts=posts, base_url=base_url)
    for asks, jobs in zip(posts, answers, strict=True):
        if len(jobs) < len(asks):  # logged here, once, whichever way the jobs were asked for
            logger.info("image cap: %s of a post's %s images get a job", len(jobs), len(asks))
    return answers


def _image_jobs_request_each(
    *, user: User, posts: Sequence[Sequence[ImageAsk]], base_url: str
) -> list[list[ImageJob | None]]:
    counted: set[Hashable] = set()
    answers: list[list[ImageJob | None]] = []
    for asks in posts:
        allowed = image_requests_allowed(wanted=len(asks), already_in_feed=len(counted))
        jobs: list[ImageJob | None] = []
        for ask in asks[:allowed]:
            try:
                job: ImageJob | None = image_job_request(
                    user=user,
                    image_url=ask.image_url,
                    filter_texts=ask.filter_texts,
                    intensity=ask.intensity,
                    intervention=ask.intervention,
                    base_url=base_url,
                )
            except Exception:  # one image failing must not cost the others
                logger.exception("image job request failed for %s", ask.image_url)
                job = None
            if job is not None and job.status != ImageJob.Status.FAILED:
                counted.add(ask.key)
            jobs.append(job)
        answers.append(jobs)
    return answers


def _image_jobs_request(
    *, user: User, posts: Sequence[Sequence[ImageAsk]], base_url: str
) -> list[list[ImageJob | None]]:
    bound = min(settings.DIYMOD_IMAGES_PER_POST, settings.DIYMOD_IMAGES_PER_FEED)
    keys = {id(ask): ask_key(ask) for asks in posts for ask in asks[:bound]}
    jobs = image_jobs_existing(set(keys.values()))
    created: dict[int, ImageJob] = {}  # by id(): unsaved jobs are all equal to Django
    counted: set[Hashable] = set()
    answers: list[list[ImageJob | None]] = []
    wanted: list[tuple[ImageAsk, ImageJob]] = []
    for asks in posts:
        allowed = image_requests_allowed(wanted=len(asks), already_in_feed=len(counted))
        answers.append([])
        for ask in asks[:allowed]:
            job = jobs.get(keys[id(ask)])
            if job is None:
                job = jobs[keys[id(ask)]] = image_job_new(ask, keys[id(ask)])
                created[id(job)] = job
            if job.status != ImageJob.Status.FAILED:
                counted.add(ask.key)
            answers[-1].append(job)
            wanted.append((ask, job))
    image_jobs_create(list(created.values()))
    for job in {id(job): job for _, job in wanted if id(job) not in created}.values():
        image_job_heal(job)
    image_requests_record(user=user, wanted=wanted, base_url=base_url)
    return answers


def ask_key(ask: ImageAsk) -> JobKey:
    return image_job_key(
        image_url=ask.image_url,
        filter_texts=ask.filter_texts,
        intensity=ask.intensity,
        intervention=ask.intervention,
    )


def image_jobs_existing(keys: set[JobKey]) -> dict[JobKey, ImageJob]:
    if not keys:
        return {}
    rows = ImageJob.objects.filter(
        url_hash__in={key[0] for key in keys}, filter_key__in={key[1] for key in keys}
    ).order_by()
    found = {(job.url_hash, job.filter_key, job.intervention): job for job in rows}
    return {key: job for key, job in found.items() if key in keys}


def image_job_new(ask: ImageAsk, key: JobKey) -> ImageJob:
    url_hash, filter_key, intervention = key
    return ImageJob(
        image_url=ask.image_url,
        url_hash=url_hash,
        filter_key=filter_key,
        intervention=intervention,
        filters=filters_kept(ask.filter_texts),
    )


def image_jobs_create(jobs: list[ImageJob]) -> None:
    """Insert the new jobs and queue each after commit. A concurrent creator's row makes the
    insert fail: the caller then asks one by one, and get_or_create decides."""
    if not jobs:
        return
    ImageJob.objects.bulk_create(jobs)
    if any(job.pk is None for job in jobs):
        raise RuntimeError("the database returned no ids for the new image jobs")
    for job in jobs:
        image_job_dispatch_on_commit(job_id=job.pk)


def image_requests_record(
    *, user: User, wanted: list[tuple[ImageAsk, ImageJob]], base_url: str
) -> None:
    """`image_request_record` for every (image, filter set) of the feed: the request made, or
    refreshed and pointed at the job its last ask chose."""
    latest: dict[tuple[str, str], tuple[ImageAsk, ImageJob]] = {}
    for ask, job in wanted:
        key = (job.url_hash, job.filter_key)
        first_ask = latest.pop(key, (ask, job))[0]
        latest[key] = (first_ask, job)  # created with the first ask's texts, as before
    existing = {
        (request.url_hash, request.filter_key): request
        for request in ImageRequest.objects.filter(
            user=user,
            url_hash__in={key[0] for key in latest},
            filter_key__in={key[1] for key in latest},
        ).order_by()
        if (request.url_hash, request.filter_key) in latest
    }
    fresh, moved = [], []
    for key, (ask, job) in latest.items():
        request = existing.get(key)
        if request is None:
            fresh.append(image_request_new(user, ask, job, base_url))
        elif request.job_id != job.pk:
            request.job = job
            moved.append(request)
    ImageRequest.objects.bulk_create(fresh)
    now, moved_ids = timezone.now(), {request.pk for request in moved}
    stale = [
        request
        for request in existing.values()
        if request.pk in moved_ids or image_request_stale(request, base_url=base_url, now=now)
    ]
    image_requests_refresh(existing=stale, moved=moved, base_url=base_url, now=now)


def image_request_new(user: User, ask: ImageAsk, job: ImageJob, base_url: str) -> ImageRequest:
    return ImageRequest(
        user=user,
        job=job,
        url_hash=job.url_hash,
        filter_key=job.filter_key,
        filters=filters_kept(ask.filter_texts),
        base_url=base_url[:255],
    )


def image_requests_refresh(
    *, existing: list[ImageRequest], moved: list[ImageRequest], base_url: str, now: datetime
) -> None:
    """Asked again `now` (one UPDATE for all), with the given base URL; the moved ones (their
    filter's treatment changed) pointed at their new job, one UPDATE per job."""
    if not existing:
        return
    changes: dict[str, object] = {"requested_at": now}
    if base_url:
        changes["base_url"] = base_url[:255]
    ImageRequest.objects.filter(pk__in=[request.pk for request in existing]).update(**changes)
    by_job: dict[int, list[int]] = {}
    for request in moved:
        by_job.setdefault(request.job_id, []).append(request.pk)
    for job_id, request_ids in by_job.items():
        ImageRequest.objects.filter(pk__in=request_ids).update(job_id=job_id)
