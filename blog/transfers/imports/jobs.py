"""Imports started on the writing desk. The upload is kept privately; the
dry run and then the import run in a worker (a list of 100,000 would outlast
a request), each reporting progress in the cache for the progress bar: the
import's own transaction hides its rows from the database until the end.

A run whose worker dies (out of memory, say) is delivered again, since tasks
are acknowledged late; each start is counted first, and a job that stopped
its worker twice fails with a message instead of taking workers down for
ever. While a run goes on it holds its job's row, so a second delivery of
the same task waits for it and then finds nothing left to do. An upload
checked but never imported is deleted after IMPORT_UPLOAD_HOURS."""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from blog.models import ImportJob
from blog.shared import files
from blog.transfers.imports import run_import
from blog.transfers.imports.steps import Report

logger = logging.getLogger(__name__)
RUNNING = (ImportJob.Status.CHECKING, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
# Progress is written every 50 rows and kept this long: a running job whose
# progress expired lost its worker (a crash, a deploy), and its transaction
# was rolled back, so the page says to upload again.
PROGRESS_SECONDS = 2 * 3600
MAX_ATTEMPTS = 2
DIED_TWICE = (
    "the worker reading this file stopped twice (it may be too large or damaged for this server), "
    "so it was not tried again."
)
EXPIRED = "the upload waited unused for {hours} hours and was deleted; upload the file again to import it."


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def _set_progress(job_id: int, done: int, total: int) -> None:
    cache.set(progress_key(job_id), (done, total), PROGRESS_SECONDS)


def save_upload(upload: "UploadedFile[bytes]", user: User, options: dict[str, Any] | None = None) -> ImportJob:
    """Keep the file in private storage, shared by every worker host; the caller queues the dry run."""
    name = files.save_private(f"imports/{uuid.uuid4().hex}.upload", upload)
    job = ImportJob.objects.create(
        user=user, filename=(upload.name or "upload")[:255], path=name, options=options or {}
    )
    _set_progress(job.pk, 0, 0)
    return job


def _run(job: ImportJob, *, dry_run: bool) -> Report:
    def progress(done: int, total: int) -> None:
        _set_progress(job.pk, done, total)

    try:
        with files.local_copy(job.path) as path:
            return run_import(
                path,
                user=job.user,
                dry_run=dry_run,
                progress=progress,
                old_site=str(job.options.get("old_site") or ""),
                unsubscribe_missing=bool(job.options.get("unsubscribe_missing")),
            )
    except Exception as error:
        logger.exception("import job %s failed", job.pk)
        return Report(dry_run=dry_run, refused=f"an unexpected error stopped it ({type(error).__name__}).")


def _claim(job_id: int, waiting: tuple[str, ...], running: str) -> bool:
    """Count one more start of the job, committed before it runs; False when there is nothing to run,
    or when two starts already died with their worker (the job then fails)."""
    started = ImportJob.objects.filter(pk=job_id, status__in=waiting, attempts__lt=MAX_ATTEMPTS)
    if started.update(status=running, attempts=F("attempts") + 1):
        return True
    with transaction.atomic():
        # Locked, so that a run still going on (which holds the row) is not taken for a dead one.
        dead = ImportJob.objects.select_for_update(skip_locked=True).filter(
            pk=job_id, status=running, attempts__gte=MAX_ATTEMPTS
        )
        job = dead.first()
        if job is not None:
            _finish(job, Report(dry_run=running == ImportJob.Status.CHECKING, refused=DIED_TWICE))
    return False


def _held(job_id: int, running: str) -> ImportJob | None:
    """The job, locked for this run (inside a transaction); None if another delivery is running it."""
    job = ImportJob.objects.select_for_update(skip_locked=True).select_related("user").filter(pk=job_id).first()
    return job if job is not None and job.status == running else None


def _finish(job: ImportJob, report: Report) -> None:
    if report.dry_run:
        job.dry_run_report = report.as_dict()
        job.status = ImportJob.Status.FAILED if report.refused else ImportJob.Status.CHECKED
    else:
        job.report = report.as_dict()
        job.status = ImportJob.Status.FAILED if report.refused else ImportJob.Status.DONE
        job.finished_at = timezone.now()
    job.save(update_fields=["dry_run_report", "report", "status", "finished_at"])
    if report.dry_run:
        cache.delete(progress_key(job.pk))  # the import's own bar starts at nothing
    if job.status != ImportJob.Status.CHECKED:
        files.private_storage().delete(job.path)


def perform_check(job_id: int) -> None:
    """The dry run; a file that cannot be imported at all is not kept."""
    if not _claim(job_id, (ImportJob.Status.CHECKING,), ImportJob.Status.CHECKING):
        return
    with transaction.atomic():
        job = _held(job_id, ImportJob.Status.CHECKING)
        if job is not None:
            _finish(job, _run(job, dry_run=True))


def start_import(job: ImportJob) -> bool:
    """Checked → queued, once: a second click queues nothing. The caller queues the task."""
    queued = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED)
    if not queued.update(status=ImportJob.Status.QUEUED, attempts=0):
        return False
    _set_progress(job.pk, 0, 0)
    return True


def perform_import(job_id: int) -> None:
    """The import; a delivery that finds the job done, or running elsewhere, stops."""
    waiting = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    if not _claim(job_id, waiting, ImportJob.Status.RUNNING):
        return
    with transaction.atomic():
        job = _held(job_id, ImportJob.Status.RUNNING)
        if job is not None:
            _finish(job, _run(job, dry_run=False))


def expire_uploads() -> int:
    """Delete the files of uploads checked but not imported within IMPORT_UPLOAD_HOURS; how many."""
    hours = settings.IMPORT_UPLOAD_HOURS
    stale = ImportJob.objects.filter(
        status=ImportJob.Status.CHECKED, created_at__lt=timezone.now() - timedelta(hours=hours)
    )
    expired = 0
    for job in stale:
        if ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(
            status=ImportJob.Status.FAILED, report=Report(refused=EXPIRED.format(hours=hours)).as_dict()
        ):
            files.private_storage().delete(job.path)
            expired += 1
    return expired


def job_progress(job: ImportJob) -> dict[str, Any]:
    progress = cache.get(progress_key(job.pk))
    done, total = progress or (0, 0)
    if job.status not in RUNNING:
        done = total = max(total, 1)
    percent = 100 * done // total if total else 0
    stalled = job.status in RUNNING and progress is None
    return {"status": job.status, "status_label": job.get_status_display(), "done": done, "total": total,
            "percent": percent, "stalled": stalled}  # fmt: skip
