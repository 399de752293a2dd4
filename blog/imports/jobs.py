"""Imports started on the writing desk. The upload is kept privately; the
dry run and then the import run in a worker (a list of 100,000 would outlast
a request), each reporting progress in the cache for the progress bar: the
import's own transaction hides its rows from the database until the end."""

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from accounts.models import User
from blog.imports import run_import
from blog.imports.steps import Report
from blog.models import ImportJob

logger = logging.getLogger(__name__)
RUNNING = (ImportJob.Status.CHECKING, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
# Progress is written every 50 rows and kept this long: a running job whose
# progress expired lost its worker (a crash, a deploy), and its transaction
# was rolled back, so the page says to upload again.
PROGRESS_SECONDS = 2 * 3600


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def _set_progress(job_id: int, done: int, total: int) -> None:
    cache.set(progress_key(job_id), (done, total), PROGRESS_SECONDS)


def save_upload(upload: "UploadedFile[bytes]", user: User, options: dict[str, Any] | None = None) -> ImportJob:
    """Keep the file outside MEDIA_ROOT; the caller queues the dry run."""
    folder = Path(settings.PRIVATE_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    with path.open("wb") as file:
        for chunk in upload.chunks():
            file.write(chunk)
    job = ImportJob.objects.create(
        user=user, filename=(upload.name or "upload")[:255], path=str(path), options=options or {}
    )
    _set_progress(job.pk, 0, 0)
    return job


def _run(job: ImportJob, *, dry_run: bool) -> Report:
    def progress(done: int, total: int) -> None:
        _set_progress(job.pk, done, total)

    try:
        return run_import(
            Path(job.path),
            user=job.user,
            dry_run=dry_run,
            progress=progress,
            old_site=str(job.options.get("old_site") or ""),
            unsubscribe_missing=bool(job.options.get("unsubscribe_missing")),
        )
    except Exception as error:
        logger.exception("import job %s failed", job.pk)
        return Report(dry_run=dry_run, refused=f"an unexpected error stopped it ({type(error).__name__}).")


def perform_check(job_id: int) -> None:
    """The dry run; a file that cannot be imported at all is not kept."""
    job = ImportJob.objects.select_related("user").filter(pk=job_id, status=ImportJob.Status.CHECKING).first()
    if job is None:
        return
    report = _run(job, dry_run=True)
    job.dry_run_report = report.as_dict()
    job.status = ImportJob.Status.FAILED if report.refused else ImportJob.Status.CHECKED
    job.save(update_fields=["dry_run_report", "status"])
    cache.delete(progress_key(job.pk))
    if report.refused:
        Path(job.path).unlink(missing_ok=True)


def start_import(job: ImportJob) -> bool:
    """Checked → queued, once: a second click queues nothing. The caller queues the task."""
    queued = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED)
    if not queued.update(status=ImportJob.Status.QUEUED):
        return False
    _set_progress(job.pk, 0, 0)
    return True


def perform_import(job_id: int) -> None:
    """The import; a redelivered task finds the job no longer queued and stops."""
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(status=ImportJob.Status.RUNNING):
        return
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    report = _run(job, dry_run=False)
    job.report = report.as_dict()
    job.status = ImportJob.Status.FAILED if report.refused else ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["report", "status", "finished_at"])
    Path(job.path).unlink(missing_ok=True)


def job_progress(job: ImportJob) -> dict[str, Any]:
    progress = cache.get(progress_key(job.pk))
    done, total = progress or (0, 0)
    if job.status not in RUNNING:
        done = total = max(total, 1)
    percent = 100 * done // total if total else 0
    stalled = job.status in RUNNING and progress is None
    return {"status": job.status, "status_label": job.get_status_display(), "done": done, "total": total,
            "percent": percent, "stalled": stalled}  # fmt: skip
