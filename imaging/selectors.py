"""Reads of image jobs, scoped to the acting user: a job is found through that user's own
request of it (URL + filter set), so nobody learns what someone else asked for. Adding or moving
a request is a write (imaging/requests.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from filters.models import User
from imaging.models import ImageJob, ImageRequest

# A socket is re-told at most this many results after an outage (a few pages' worth).
MAX_MISSED_RESULTS = 500


def text_bytes(text: str) -> bytes:
    """UTF-8, with lone surrogates (a JSON `"\\ud800"` decodes to one) kept as their code
    units instead of raising: a hash of hostile text is still a hash that matches nothing."""
    return text.encode("utf-8", "surrogatepass")


def url_hash_make(image_url: str) -> str:
    return hashlib.sha256(text_bytes(image_url)).hexdigest()


def filter_texts_normalise(filter_texts: list[str]) -> list[str]:
    """Case and spacing do not make a different filter: "Spiders " and "spiders" share a job."""
    return sorted({" ".join(text.split()).casefold() for text in filter_texts if text.strip()})


def filter_key_make(filter_texts: list[str]) -> str:
    canonical = json.dumps(filter_texts_normalise(filter_texts), ensure_ascii=False)
    return hashlib.sha256(text_bytes(canonical)).hexdigest()


def image_request_find(
    *, user: User, image_url: str, filter_texts: list[str]
) -> ImageRequest | None:
    """`user`'s own request of this image with this filter set; with no filters given, their
    newest request of the image (a client that lost its filter list still finds its result)."""
    requests = ImageRequest.objects.filter(user=user, url_hash=url_hash_make(image_url))
    if filter_texts_normalise(filter_texts):
        requests = requests.filter(filter_key=filter_key_make(filter_texts))
    return requests.select_related("job").order_by("-requested_at", "-id").first()


def image_job_find_for(*, user: User, image_url: str, filter_texts: list[str]) -> ImageJob | None:
    """The job `user` asked for (None when they never asked: NOT FOUND, whoever else did)."""
    request = image_request_find(user=user, image_url=image_url, filter_texts=filter_texts)
    return request.job if request is not None else None


def image_job_find_unscoped(*, image_url: str, filter_texts: list[str]) -> ImageJob | None:
    """Only for the anonymous poll of client-id mode (today's extension names no user on
    /get_img_result, CONTRACT section 2): the job of the newest request of exactly this image
    and filter set, whoever made it. Token mode never gets here."""
    requests = ImageRequest.objects.filter(url_hash=url_hash_make(image_url))
    if filter_texts_normalise(filter_texts):
        requests = requests.filter(filter_key=filter_key_make(filter_texts))
    request = requests.select_related("job").order_by("-requested_at", "-id").first()
    return request.job if request is not None else None


def image_requests_done_since(*, user: User, since: datetime) -> list[ImageRequest]:
    """`user`'s requests whose job finished (done) at or after `since`: the pushes a socket
    of theirs may have missed while the channel layer was down."""
    return list(
        ImageRequest.objects.filter(
            user=user, job__status=ImageJob.Status.DONE, job__finished_at__gte=since
        )
        .select_related("job")
        .order_by("job__finished_at")[:MAX_MISSED_RESULTS]
    )
