"""Media in an S3 bucket: against a real S3-compatible HTTP server (moto's server mode, started here on
a free port), through the same settings code production uses (config.settings.s3_storages)."""

import io
import urllib.error
import urllib.request
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from blog.models import ExportJob, Post
from blog.shared.files import private_storage, public_storage
from tests.blog.imports.test_export_restore import grant

pytestmark = pytest.mark.django_db


def anonymous_get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, b"", {k.lower(): v for k, v in error.headers.items()}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_cover_uploaded_lands_in_the_bucket_and_is_served_from_it(client, ada, s3_buckets, s3_endpoint) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.blog.test_desk import form

    client.force_login(ada)
    cover = SimpleUploadedFile("cover.png", png(), content_type="image/png")
    client.post("/write/new/", {**form(action="publish"), "cover": cover})
    post = Post.objects.get()
    client.post(f"/write/{post.pk}/publish/", {"delivery": "web"})

    assert post.cover.url.startswith(f"{s3_endpoint}/{s3_buckets['public']}/")
    assert post.cover.url in client.get(post.get_absolute_url()).content.decode()
    status, body, headers = anonymous_get(post.cover.url)
    assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    # Through the site too (SERVE_MEDIA): another web host with no file on its disk serves it.
    served = client.get(f"/media/{post.cover.name}")
    assert served.status_code == 200 and b"".join(served.streaming_content)[:4] == b"\x89PNG"


def test_an_export_is_not_publicly_readable_but_staff_with_the_permission_download_it(
    client, s3_buckets, s3_endpoint, ada, django_capture_on_commit_callbacks
) -> None:
    from accounts.models import User

    staff = User.objects.create_user("root", "root@example.com", "pw", is_staff=True)
    client.force_login(grant(staff, "blog.change_any_post", "blog.manage_subscribers"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("blog:export_start"))
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE and private_storage().exists(job.path)

    status, body, _ = anonymous_get(f"{s3_endpoint}/{s3_buckets['private']}/{job.path}")
    assert status == 403 and body == b""
    download = client.get(reverse("blog:export_download", args=[job.pk]))
    assert download.status_code == 200 and download["Cache-Control"] == "private, no-store"
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        assert "manifest.json" in archive.namelist()
    client.force_login(ada)  # an author, without the export permissions
    assert client.get(reverse("blog:export_download", args=[job.pk])).status_code == 403


class Interrupt(StringIO):
    """Output that stops the command after a number of files, as a killed process would."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def write(self, text: str) -> int:
        if text.startswith("copied"):
            if self.after == 0:
                raise KeyboardInterrupt
            self.after -= 1
        return super().write(text)


def test_moving_local_media_into_the_bucket_resumes_and_can_run_again(s3_buckets, settings, tmp_path) -> None:
    names = [f"covers/{n}.png" for n in range(6)] + ["avatars/a.png"]
    for name in names:
        (tmp_path / "media" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "media" / name).write_bytes(png() + name.encode())
    (tmp_path / "private" / "exports").mkdir(parents=True)
    (tmp_path / "private" / "exports" / "export-1.zip").write_bytes(b"PK old export")

    with pytest.raises(KeyboardInterrupt):
        call_command("move_media_to_storage", stdout=Interrupt(after=3))
    assert sum(public_storage().exists(name) for name in names) == 4  # stopped as it reported the fourth

    out = StringIO()
    call_command("move_media_to_storage", stdout=out)
    assert "public: 3 copied, 4 already there" in out.getvalue()
    assert "private: 1 copied, 0 already there" in out.getvalue()
    for name in names:
        with public_storage().open(name, "rb") as stored:
            assert stored.read() == (tmp_path / "media" / name).read_bytes()
    assert private_storage().open("exports/export-1.zip").read() == b"PK old export"

    again = StringIO()
    call_command("move_media_to_storage", stdout=again)
    assert "public: 0 copied, 7 already there" in again.getvalue()
    assert "private: 0 copied, 1 already there" in again.getvalue()
