"""Reads of image jobs. Jobs are shared by everyone who asked for the same image and filter set,
so a lookup is keyed by (URL, filter set), not by user; adding a requester is a write (services).
"""

from __future__ import annotations

import hashlib
import json

from imaging.models import ImageJob


def url_hash_make(image_url: str) -> str:
    return hashlib.sha256(image_url.encode("utf-8")).hexdigest()


def filter_texts_normalise(filter_texts: list[str]) -> list[str]:
    """Case and spacing do not make a different filter: "Spiders " and "spiders" share a job."""
    return sorted({" ".join(text.split()).casefold() for text in filter_texts if text.strip()})


def filter_key_make(filter_texts: list[str]) -> str:
    canonical = json.dumps(filter_texts_normalise(filter_texts), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def image_job_find(*, image_url: str, filter_texts: list[str]) -> ImageJob | None:
    """The job for exactly this image and filter set; with no filters given, the newest job for
    the image (a client that lost its filter list can still find its result)."""
    jobs = ImageJob.objects.filter(url_hash=url_hash_make(image_url))
    if filter_texts_normalise(filter_texts):
        jobs = jobs.filter(filter_key=filter_key_make(filter_texts))
    return jobs.order_by("-created_at", "-id").first()
