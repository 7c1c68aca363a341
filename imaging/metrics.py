"""Imaging's metrics: image jobs by status, read from the database at scrape time. Every process
shares the database, so any web process's `/metrics` answers for the fleet. Registered with
diymod.observability when the app is ready (imaging/apps.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from imaging.models import ImageJob

logger = logging.getLogger(__name__)


def image_jobs_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("diymod_image_jobs", "Image jobs by status", labels=["status"])


class ImageJobCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Without the database: registering (at start-up) must not query it."""
        yield image_jobs_family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = image_jobs_family()
        try:
            rows = ImageJob.objects.values("status").annotate(total=Count("id"))
            for row in rows:
                family.add_metric([row["status"]], row["total"])
        except Exception as error:  # a scrape must not fail because the database is away
            logger.warning("metrics: image jobs unavailable: %s", error)
        yield family
