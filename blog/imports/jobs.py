"""Imports started on the writing desk: upload and dry run in the request,
the import itself in a worker, its progress in the cache for the progress bar
(the import's own transaction hides it from the database until the end)."""

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from accounts.models import User
from blog.imports import run_import
from blog.imports.steps import Report
from blog.models import ImportJob

logger = logging.getLogger(__name__)


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def check_upload(upload: UploadedFile, user: User) -> tuple[ImportJob | None, Report]:
    """Keep the upload privately and dry-run it; a file that cannot be imported is not kept."""
    folder = Path(settings.PRIVATE_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    with path.open("wb") as file:
        for chunk in upload.chunks():
            file.write(chunk)
    report = run_import(path, user=user, dry_run=True)
    if report.refused:
        path.unlink(missing_ok=True)
        return None, report
    job = ImportJob.objects.create(
        user=user, filename=upload.name[:255], path=str(path), dry_run_report=report.as_dict()
    )
    return job, report


def start_import(job: ImportJob) -> bool:
    """Checked → queued, once: a second click queues nothing. The caller queues the task."""
    return bool(
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(status=ImportJob.Status.QUEUED)
    )


def perform_import(job_id: int) -> None:
    """The worker's part; a redelivered task finds the job no longer queued and stops."""
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(status=ImportJob.Status.RUNNING):
        return
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    path = Path(job.path)
    try:
        report = run_import(
            path, user=job.user, progress=lambda done, total: cache.set(progress_key(job_id), (done, total), 3600)
        )
    except Exception as error:
        logger.exception("import job %s failed", job_id)
        report = Report(
            refused=f"The import stopped on an unexpected error ({type(error).__name__}); nothing was imported."
        )
    job.report = report.as_dict()
    job.status = ImportJob.Status.FAILED if report.refused else ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["report", "status", "finished_at"])
    path.unlink(missing_ok=True)


def job_progress(job: ImportJob) -> dict:
    done, total = cache.get(progress_key(job.pk), (0, 0))
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        done, total = (total or 1), (total or 1)
    percent = 100 * done // total if total else 0
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": done,
        "total": total,
        "percent": percent,
    }
