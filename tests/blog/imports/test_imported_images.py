"""Imported images are drawn again like uploads: capped in pixels, no EXIF."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from blog.transfers.imports import media
from tests.blog.imports.conftest import png

pytestmark = pytest.mark.django_db


def answer_with(monkeypatch, data: bytes, content_type: str = "image/png") -> None:
    monkeypatch.setattr(media, "fetch", lambda url: (data, content_type))


def test_an_image_with_too_many_pixels_is_left_where_it_was(monkeypatch, settings) -> None:
    settings.MAX_IMAGE_PIXELS = 10_000
    answer_with(monkeypatch, png(200, 200))
    failures: list[str] = []
    copier = media.ImageCopier(dry_run=False, failures=failures)
    assert copier.copy("https://old.example/huge.png", "the post has no cover") is None
    assert failures and "megapixels" in failures[0] and "the post has no cover" in failures[0]
    assert copier.written == []


def test_a_copied_photo_loses_its_exif(monkeypatch) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 30.0)  # a GPS latitude
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(buffer, "JPEG", exif=exif.tobytes())
    answer_with(monkeypatch, buffer.getvalue(), "image/jpeg")
    copier = media.ImageCopier(dry_run=False, failures=[])
    name = copier.copy("https://old.example/photo.jpg", "kept remote")
    with default_storage.open(name) as stored, Image.open(stored) as image:
        assert image.size == (30, 20) and not image.getexif()
