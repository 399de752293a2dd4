import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.urls import reverse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != "README.md" and "real" not in path.relative_to(folder).parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return target


@pytest.fixture
def substack_zip(tmp_path) -> Path:
    return zip_folder(FIXTURES / "substack", tmp_path / "substack-export.zip")


def png(width: int = 2, height: int = 2) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


TINY_PNG = png()


@pytest.fixture(autouse=True)
def fake_images(monkeypatch) -> list[str]:
    """Image URLs on example.invalid fail; others answer with a tiny PNG."""
    from blog.transfers.imports import media

    asked: list[str] = []

    def fetch(url: str) -> tuple[bytes, str]:
        asked.append(url)
        if ".invalid" in url:
            raise media.ImageFailed("could not fetch")
        return TINY_PNG, "image/png"

    monkeypatch.setattr(media, "fetch", fetch)
    return asked


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture
def start(client, django_capture_on_commit_callbacks) -> Callable[[int], HttpResponse]:
    """POST "Import"; the queued task runs (eagerly) as the request's transaction commits."""

    def post(job_pk: int) -> HttpResponse:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("blog:import_run", args=[job_pk]))

    return post


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks) -> Callable[..., HttpResponse]:
    """POST a file; its dry run runs (eagerly) as the request's transaction commits."""

    def post(path: Path, name: str = "substack-export.zip") -> HttpResponse:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("blog:import_upload"), {"file": SimpleUploadedFile(name, path.read_bytes())})

    return post
