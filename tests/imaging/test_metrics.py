"""Imaging's own metric, `diymod_image_jobs`: collected by imaging, served by `/metrics`, and
the project package (diymod/observability.py) imports no imaging code for it (issue 17.7)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import Client

from imaging.models import ImageJob

OBSERVABILITY = Path(__file__).resolve().parents[2] / "diymod" / "observability.py"


def job_make(number: int, status: str) -> ImageJob:
    return ImageJob.objects.create(
        image_url=f"https://i.redd.it/{number}.jpg",
        url_hash=f"{number:064d}",
        filter_key="0" * 64,
        intervention="blur",
        status=status,
    )


@pytest.mark.django_db
def test_metrics_count_the_image_jobs_of_every_status(client: Client) -> None:
    for number, status in enumerate(["done", "done", "failed", "queued", "running", "done"]):
        job_make(number, status)

    text = client.get("/metrics").content.decode()

    lines = {line for line in text.splitlines() if line.startswith("diymod_image_jobs{")}
    assert lines == {
        'diymod_image_jobs{status="done"} 3.0',
        'diymod_image_jobs{status="failed"} 1.0',
        'diymod_image_jobs{status="queued"} 1.0',
        'diymod_image_jobs{status="running"} 1.0',
    }


@pytest.mark.django_db
def test_a_new_job_shows_at_the_next_scrape(client: Client) -> None:
    before = client.get("/metrics").content.decode()
    job_make(1, "queued")

    after = client.get("/metrics").content.decode()

    assert 'diymod_image_jobs{status="queued"}' not in before
    assert 'diymod_image_jobs{status="queued"} 1.0' in after


def test_the_observability_module_imports_no_app_code() -> None:
    tree = ast.parse(OBSERVABILITY.read_text())
    imported = {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
        )
    }

    apps = ("imaging", "feed", "filters", "chat", "playground")
    assert not {name for name in imported if name.split(".")[0] in apps}
    assert "diymod_image_jobs" not in OBSERVABILITY.read_text()
