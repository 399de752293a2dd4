"""Desk imports cannot wear the workers or the disk down: a file that kills its worker is tried twice, not
for ever; uploads left unused are deleted; uploads are rate-limited (docs/security.md)."""

import contextlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from blog.models import ImportJob, Post
from blog.shared.files import private_storage
from blog.tasks import check_import, expire_import_uploads, import_publication
from blog.transfers.imports import jobs

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """What the task sees of a worker killed mid-run (out of memory): nothing after this point runs."""


@pytest.fixture
def deadly(monkeypatch) -> list[int]:
    """Every run of an import kills its worker; the list counts the runs."""
    runs: list[int] = []

    def die(*args: object, **kwargs: object) -> None:
        runs.append(1)
        raise WorkerDied

    monkeypatch.setattr(jobs, "run_import", die)
    return runs


def redeliver(task, job_id: int) -> None:
    """The broker hands the task out again, as it does when a worker dies before acknowledging it."""
    with contextlib.suppress(WorkerDied):
        task(job_id)


def test_a_file_that_kills_its_worker_twice_in_the_dry_run_fails_with_a_message(
    client, ada, substack_zip, deadly
) -> None:
    client.force_login(ada)
    client.post(reverse("blog:import_upload"), {"file": substack_zip.open("rb")})  # its dry run is queued
    job = ImportJob.objects.get()
    for _ in range(4):  # delivered, died; delivered again, died; and the broker keeps trying
        redeliver(check_import, job.pk)

    assert len(deadly) == 2
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    page = client.get(reverse("blog:import_job", args=[job.pk])).content.decode()
    assert "Nothing was imported: the worker reading this file stopped twice" in page
    assert not private_storage().exists(job.path)


def test_an_import_that_kills_its_worker_twice_fails_and_is_not_run_again(
    client, ada, upload, start, substack_zip, monkeypatch
) -> None:
    client.force_login(ada)
    upload(substack_zip)
    job = ImportJob.objects.get()
    runs: list[int] = []

    def die(*args: object, **kwargs: object) -> None:
        runs.append(1)
        raise WorkerDied

    monkeypatch.setattr(jobs, "run_import", die)
    with pytest.raises(WorkerDied):
        start(job.pk)
    for _ in range(4):
        redeliver(import_publication, job.pk)

    assert len(runs) == 2
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert "stopped twice" in client.get(reverse("blog:import_job", args=[job.pk])).content.decode()
    assert not Post.objects.exists()


def test_a_worker_that_died_once_is_forgiven(client, ada, upload, start, substack_zip, monkeypatch) -> None:
    client.force_login(ada)
    upload(substack_zip)
    job = ImportJob.objects.get()
    real_run = jobs.run_import
    runs: list[int] = []

    def die_once(*args, **kwargs):
        runs.append(1)
        if len(runs) == 1:
            raise WorkerDied
        return real_run(*args, **kwargs)

    monkeypatch.setattr(jobs, "run_import", die_once)
    with pytest.raises(WorkerDied):
        start(job.pk)
    redeliver(import_publication, job.pk)
    redeliver(import_publication, job.pk)  # a late duplicate finds it done

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and len(runs) == 2
    assert Post.objects.count() == 6


def test_an_upload_checked_but_never_imported_is_deleted(client, ada, upload, substack_zip, settings) -> None:
    client.force_login(ada)
    upload(substack_zip)
    job = ImportJob.objects.get()
    name = private_storage().save("imports/new.upload", ContentFile(b"PK"))
    fresh = ImportJob.objects.create(user=ada, filename="new.zip", path=name, status=ImportJob.Status.CHECKED)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=25))

    expire_import_uploads()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and not private_storage().exists(job.path)
    page = client.get(reverse("blog:import_job", args=[job.pk])).content.decode()
    assert "the upload waited unused for 24 hours and was deleted" in page
    assert reverse("blog:import_run", args=[job.pk]) not in page  # no Import button any more
    fresh.refresh_from_db()
    assert fresh.status == ImportJob.Status.CHECKED and private_storage().exists(fresh.path)


def test_uploads_are_rate_limited_per_account(client, ada, upload, substack_zip, settings) -> None:
    settings.IMPORT_UPLOAD_RATE = "2/h"
    client.force_login(ada)
    upload(substack_zip)
    upload(substack_zip)

    response = upload(substack_zip)

    assert response.status_code == 429
    assert "Please wait an hour before the next upload" in response.content.decode()
    assert ImportJob.objects.count() == 2
    assert len(private_storage().listdir("imports")[1]) == 2


def test_imports_run_on_their_own_queue() -> None:
    from config.celery import app

    for task in (check_import, import_publication):
        assert app.amqp.router.route({}, task.name)["queue"].name == "imports"
    assert app.amqp.router.route({}, expire_import_uploads.name)["queue"].name == "celery"


def test_an_upload_in_the_bucket_is_private_checked_imported_and_then_deleted(
    client, ada, upload, start, substack_zip, s3_buckets, s3_endpoint
) -> None:
    import urllib.error
    import urllib.request

    client.force_login(ada)
    upload(substack_zip)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.CHECKED and private_storage().exists(job.path)  # read back by the dry run
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{s3_endpoint}/{s3_buckets['private']}/{job.path}", timeout=5)
    assert refused.value.code == 403

    start(job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Post.objects.exists()
    assert not private_storage().exists(job.path)
