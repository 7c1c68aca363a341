from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from imaging.dispatch import image_job_retry, image_jobs_requeue_stuck
from imaging.models import ImageJob
from imaging.storage import image_jobs_prune


class Command(BaseCommand):
    help = (
        "List image jobs; re-queue failed ones (--retry) or stuck ones (--requeue-stuck); "
        "delete old finished ones and their files (--prune-days)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--status", choices=ImageJob.Status.values, help="Only this status")
        parser.add_argument("--limit", type=int, default=50, help="Rows to list (default 50)")
        parser.add_argument(
            "--retry", action="store_true", help="Re-queue the selected jobs (not done ones)"
        )
        parser.add_argument(
            "--requeue-stuck",
            action="store_true",
            help="Re-queue jobs queued/running longer than --stuck-seconds",
        )
        parser.add_argument(
            "--stuck-seconds", type=int, default=None, help="Default DIYMOD_IMAGE_STUCK_SECONDS"
        )
        parser.add_argument(
            "--prune-days", type=int, default=None, help="Delete jobs finished before N days ago"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["prune_days"] is not None:
            count = image_jobs_prune(older_than_days=options["prune_days"])
            self.stdout.write(f"Deleted {count} finished job(s).")
            return
        if options["requeue_stuck"]:
            count = image_jobs_requeue_stuck(stuck_seconds=options["stuck_seconds"])
            self.stdout.write(f"Re-queued {count} stuck job(s).")
            return
        status = options["status"]
        if options["retry"] and status is None:
            status = ImageJob.Status.FAILED  # "--retry" alone means the failed ones
        jobs = ImageJob.objects.all()
        if status:
            jobs = jobs.filter(status=status)
        if options["retry"]:
            count = sum(image_job_retry(job=job) for job in jobs)
            self.stdout.write(f"Re-queued {count} job(s).")
            return
        for job in jobs[: options["limit"]]:
            self.stdout.write(self.job_line(job))

    def job_line(self, job: ImageJob) -> str:
        timing = f"{job.total_ms} ms" if job.total_ms is not None else "-"
        detail = job.error.splitlines()[0][:80] if job.error else job.result
        return (
            f"{job.pk:>6} {job.status:<8} {job.intervention:<9} {job.attempts:>2} "
            f"{timing:>9}  {job.image_url[:70]}  {detail}"
        )
