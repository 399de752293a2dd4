"""A desk import through the real worker: dry run, import, progress in Redis, nobody e-mailed."""

import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import EDITORS
from blog.models import ImportJob, Post, Subscriber
from blog.shared.files import private_storage
from tests.factories import grant, make_user

pytestmark = pytest.mark.integration


def small_substack_export(path: Path, subscribers: int) -> Path:
    """Substack's layout (see tests/fixtures/substack), without images, so that nothing reaches the network."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "posts.csv",
            "post_id,post_date,is_published,type,audience,title,subtitle\n"
            "1.first,2025-01-01T09:00:00Z,true,newsletter,everyone,First,One\n"
            "2.second,2025-02-01T09:00:00Z,true,newsletter,everyone,Second,Two\n",
        )
        archive.writestr("posts/1.first.html", "<p>First body.</p><blockquote><p>A quote.</p></blockquote>")
        archive.writestr("posts/2.second.html", "<p>Second body.</p>")
        rows = "".join(f"reader{n}@example.com,true,false,2024-01-01T00:00:00Z\n" for n in range(subscribers))
        archive.writestr("email_list.pub.csv", "email,active_subscription,email_disabled,created_at\n" + rows)
    return path


def wait_for(job: ImportJob, status: str, timeout: float = 60) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == status:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.status}, wanted {status}")


def test_a_desk_import_runs_in_the_worker_and_mails_nobody(
    celery_worker_process, smtp_sink, client, tmp_path, settings, require_service
) -> None:
    require_service("Redis cache", settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "set CACHE_URL")
    settings.PRIVATE_ROOT = tmp_path / "private"
    # An editor who manages subscribers: the list comes in with the posts.
    client.force_login(grant(make_user("sam", is_staff=True, role=EDITORS), "blog.manage_subscribers"))
    export = small_substack_export(tmp_path / "export.zip", 3000)

    response = client.post(
        reverse("blog:import_upload"), {"file": SimpleUploadedFile("export.zip", export.read_bytes())}
    )

    job = wait_for(ImportJob.objects.get(), ImportJob.Status.CHECKED)
    assert job.dry_run_report["counts"]["subscribers"]["created"] == 3000
    assert not Post.objects.exists()
    client.post(reverse("blog:import_run", args=[job.pk]))
    wait_for(job, ImportJob.Status.DONE)
    assert Post.objects.count() == 2 and Subscriber.objects.count() == 3000
    assert client.get(response["Location"] + "?format=json").json()["percent"] == 100
    assert cache.get(f"import-progress:{job.pk}") == (3002, 3002)  # the worker wrote it to the shared cache
    time.sleep(1)
    assert smtp_sink.messages == []


def pool_children(worker) -> list[int]:
    """The pids of the worker's pool processes (the parent stays, as after an out-of-memory kill)."""
    found = subprocess.run(["pgrep", "-P", str(worker.process.pid)], capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def kill_while_checking(worker, job: ImportJob, attempt: int) -> None:
    """Wait until the dry run's `attempt`-th start is reading rows, then kill the pool process running it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        progress = cache.get(f"import-progress:{job.pk}") or (0, 0)
        if job.attempts == attempt and progress[0] > 0:
            for pid in pool_children(worker):
                os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)
    raise AssertionError(f"the dry run never got going (attempts {job.attempts})")


def test_a_file_whose_worker_dies_twice_fails_instead_of_coming_back(
    celery_worker_process, client, tmp_path, settings, require_service
) -> None:
    require_service("Redis cache", settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "set CACHE_URL")
    settings.PRIVATE_ROOT = tmp_path / "private"
    client.force_login(grant(make_user("sam", is_staff=True, role=EDITORS), "blog.manage_subscribers"))
    export = small_substack_export(tmp_path / "export.zip", 200_000)  # a dry run of some seconds
    client.post(reverse("blog:import_upload"), {"file": SimpleUploadedFile("export.zip", export.read_bytes())})
    job = ImportJob.objects.get()

    kill_while_checking(celery_worker_process, job, attempt=1)
    kill_while_checking(celery_worker_process, job, attempt=2)

    wait_for(job, ImportJob.Status.FAILED)
    assert "stopped twice" in job.dry_run_report["refused"]
    assert job.attempts == 2 and not private_storage().exists(job.path)
