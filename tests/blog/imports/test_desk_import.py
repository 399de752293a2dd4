import pytest
from django.core import mail
from django.urls import reverse

from blog.models import ExportJob, ImportJob, Post, Subscriber
from blog.shared.files import private_storage
from tests.factories import make_user

pytestmark = pytest.mark.django_db

UPLOAD = reverse("blog:import_upload")


def test_an_author_uploads_sees_the_dry_run_then_imports(client, upload, start, ada, substack_zip) -> None:
    client.force_login(ada)

    response = upload(substack_zip)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("blog:import_job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Dry run" in page and "posts: 6 would be created, 0 would be updated, 1 skipped" in page
    assert "Subscribers are imported only by those who manage them" in page
    assert "https://images.example.invalid/ferry-chart.png" not in page  # no download in a dry run
    assert not Post.objects.exists()

    response = start(job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Post.objects.filter(author=ada).count() == 6
    page = client.get(response["Location"]).content.decode()
    assert "posts: 6 were created" in page
    assert "could not fetch https://images.example.invalid/ferry-chart.png" in page
    assert client.get(reverse("blog:import_job", args=[job.pk]) + "?format=json").json()["percent"] == 100
    assert not private_storage().exists(job.path)
    assert mail.outbox == []


def test_staff_import_the_list_too(client, upload, start, sam, substack_zip) -> None:
    client.force_login(sam)
    upload(substack_zip)

    start(ImportJob.objects.get().pk)

    assert Subscriber.objects.count() == 18
    assert mail.outbox == []


def test_starting_twice_imports_once(client, upload, start, sam, substack_zip) -> None:
    client.force_login(sam)
    upload(substack_zip)
    job = ImportJob.objects.get()

    start(job.pk)
    start(job.pk)

    assert Post.objects.count() == 6


def test_a_file_it_cannot_take_is_refused_with_a_message_and_not_kept(client, upload, ada, tmp_path) -> None:
    client.force_login(ada)
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes")

    response = upload(junk, "notes.txt")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported: This is not an export Dispatch knows" in page
    assert "<button" not in page.split("Dry run")[1]  # no Import button
    assert not any((tmp_path / "private" / "imports").iterdir())


def test_a_file_over_the_limit_is_refused(client, upload, ada, substack_zip, settings) -> None:
    settings.IMPORT_MAX_BYTES = 1000
    client.force_login(ada)

    response = upload(substack_zip)

    assert "the largest import is 0 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_running_an_import_is_post_only(client, upload, ada, substack_zip) -> None:
    client.force_login(ada)
    upload(substack_zip)
    job = ImportJob.objects.get()

    assert client.get(reverse("blog:import_run", args=[job.pk])).status_code == 405
    assert not Post.objects.exists()


def test_visitors_are_sent_to_log_in_and_readers_refused(client, upload, rosa, substack_zip) -> None:
    assert client.get(UPLOAD).status_code == 302
    assert upload(substack_zip).status_code == 302
    client.force_login(rosa)
    assert client.get(UPLOAD).status_code == 403
    assert upload(substack_zip).status_code == 403
    assert not ImportJob.objects.exists()


def test_another_author_cannot_see_or_run_my_import(client, upload, start, ada, bo, substack_zip) -> None:
    client.force_login(ada)
    upload(substack_zip)
    job = ImportJob.objects.get()
    client.force_login(bo)

    assert client.get(reverse("blog:import_job", args=[job.pk])).status_code == 404
    assert start(job.pk).status_code == 404
    assert not Post.objects.exists()


def test_the_desk_links_to_import_and_staff_to_export(client, ada) -> None:
    client.force_login(ada)
    page = client.get(reverse("blog:desk")).content.decode()
    assert reverse("blog:import_upload") in page
    assert reverse("blog:export_list") not in page
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert reverse("blog:export_list") in client.get(reverse("blog:desk")).content.decode()


def test_visitors_cannot_run_an_import(client, upload, ada, substack_zip) -> None:
    client.force_login(ada)
    upload(substack_zip)
    job = ImportJob.objects.get()
    client.logout()

    response = client.post(reverse("blog:import_run", args=[job.pk]))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED


def test_starting_an_export_is_post_only_and_not_for_visitors(client, sam) -> None:
    assert client.post(reverse("blog:export_start")).status_code == 302
    client.force_login(sam)
    assert client.get(reverse("blog:export_start")).status_code == 405
    assert client.get(reverse("blog:export_download", args=[1])).status_code == 404
    assert not ExportJob.objects.exists()


def test_an_import_whose_worker_stopped_says_so(client, ada, tmp_path) -> None:
    job = ImportJob.objects.create(user=ada, filename="old.zip", path=str(tmp_path / "old.zip"), status="running")
    client.force_login(ada)  # and no progress for two hours: it expired from the cache

    page = client.get(reverse("blog:import_job", args=[job.pk])).content.decode()

    assert "the worker running it has probably stopped" in page
