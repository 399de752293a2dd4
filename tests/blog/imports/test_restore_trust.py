"""A Dispatch export restored carries no power: a superuser (or the command line) restores, the file grants
no flag, group or password, and its media are pictures, PDFs and audio only (docs/security.md)."""

import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User
from blog.models import ImportJob, Post
from blog.transfers.exports import export_publication
from tests.blog.imports.conftest import png
from tests.factories import PASSWORD, make_post, make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def rewrite(path: Path, change: dict[str, bytes]) -> Path:
    """The export with some members replaced or added."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members.update(change)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def users_json(rows: list[dict]) -> bytes:
    return ("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n").encode()


@pytest.fixture
def hostile_export(tmp_path, ada, rosa) -> Path:
    """A real export of a small site, edited: a new account "mallory" who is a superuser with a
    password and the Editors group, and the existing reader rosa made a superuser editor."""
    mallory = make_user("mallory", is_staff=True, is_superuser=True)
    make_post(ada, "Harbour news")
    path = tmp_path / "export.zip"
    export_publication(path, with_password_hashes=True)
    with zipfile.ZipFile(path) as archive:
        rows = [json.loads(line.rstrip(",")) for line in archive.read("data/users.json").decode().splitlines()[1:-1]]
    for row in rows:
        if row["username"] in ("mallory", "rosa"):
            row.update(is_staff=True, is_superuser=True, groups=["Editors", "Moderators"])
    Post.objects.all().delete()
    mallory.delete()
    return rewrite(path, {"data/users.json": users_json(rows)})


def assert_nobody_gained_power(rosa: User) -> None:
    mallory = User.objects.get(username="mallory")
    assert not (mallory.is_staff or mallory.is_superuser or mallory.groups.exists())
    assert not mallory.has_usable_password()
    rosa = User.objects.get(pk=rosa.pk)
    assert not (rosa.is_staff or rosa.is_superuser or rosa.groups.exists())


def test_restoring_on_the_desk_takes_a_superuser(client, upload, start, sam, hostile_export) -> None:
    client.force_login(sam)  # manages subscribers, edits every post: not enough to restore a whole site

    response = upload(hostile_export, "export.zip")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    page = client.get(response["Location"]).content.decode()
    assert "Restoring a whole Dispatch export takes a superuser" in page
    assert start(job.pk).status_code == 302
    assert not Post.objects.exists() and not User.objects.filter(username="mallory").exists()


def test_a_superuser_restores_on_the_desk_and_the_file_grants_nobody_anything(
    client, upload, start, rosa, hostile_export
) -> None:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    upload(hostile_export, "export.zip")
    job = ImportJob.objects.get()

    start(job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Post.objects.get().title == "Harbour news"
    assert_nobody_gained_power(rosa)
    assert not User.objects.get(username="mallory").check_password(PASSWORD)


def test_the_command_line_grants_nothing_either_unless_told_the_file_is_its_own(rosa, hostile_export) -> None:
    call_command("import_publication", str(hostile_export), stdout=StringIO(), stderr=StringIO())

    assert_nobody_gained_power(rosa)


def test_the_operator_restores_their_own_export_with_its_roles(rosa, hostile_export) -> None:
    call_command("import_publication", str(hostile_export), "--trust-accounts", stdout=StringIO(), stderr=StringIO())

    mallory = User.objects.get(username="mallory")
    assert mallory.is_superuser and mallory.groups.filter(name="Editors").exists()
    assert mallory.check_password(PASSWORD)
    rosa = User.objects.get(pk=rosa.pk)
    assert not (rosa.is_superuser or rosa.groups.exists())  # an account that existed stays as it was


def test_restored_media_are_pictures_pdfs_and_audio_only(client, hostile_export, settings) -> None:
    rewrite(
        hostile_export,
        {
            "media/covers/harbour.png": png(4, 3),
            "media/files/minutes.pdf": PDF,
            "media/files/episode.mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64,
            "media/files/page.html": b"<script>alert(document.cookie)</script>",
            "media/files/app.js": b"fetch('/admin/')",
            "media/files/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "media/files/fake.pdf": b"<html><script>alert(1)</script></html>",
            "media/covers/fake.png": b"<html><script>alert(1)</script></html>",
        },
    )
    out = StringIO()

    call_command("import_publication", str(hostile_export), stdout=out, stderr=StringIO())

    media = Path(settings.MEDIA_ROOT)
    kept = sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file())
    assert kept == ["covers/harbour.png", "files/episode.mp3", "files/minutes.pdf"]
    report = out.getvalue()
    assert "media/files/page.html is not an image, PDF or audio file; left out." in report
    assert "media/files/fake.pdf is not the PDF file its name says; left out." in report
    assert "media/covers/fake.png: Upload a valid image" in report
    picture = client.get("/media/covers/harbour.png")
    assert picture.status_code == 200 and picture["Content-Disposition"].startswith("inline")
    assert picture["X-Content-Type-Options"] == "nosniff"
    document = client.get("/media/files/minutes.pdf")
    assert document["Content-Disposition"] == 'attachment; filename="minutes.pdf"'
    assert document["X-Content-Type-Options"] == "nosniff"
    assert client.get("/media/files/episode.mp3")["Content-Disposition"].startswith("attachment")


def test_a_dry_run_of_a_restore_writes_no_media(hostile_export, settings) -> None:
    rewrite(hostile_export, {"media/covers/harbour.png": png(4, 3)})

    call_command("import_publication", str(hostile_export), "--dry-run", stdout=StringIO(), stderr=StringIO())

    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.png"))
