"""Images of imported posts: copied into media when their URL answers, else left where they are.

A copy is drawn again like an upload (accounts.images): capped in pixels
before decoding, turned upright, scaled down, with no EXIF."""

import hashlib
import urllib.request
from urllib.error import URLError
from urllib.parse import urlsplit

from django import forms
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.images import COVER_MAX_SIDE, reencode

MAX_IMAGE_BYTES = 15 * 1024**2
TIMEOUT_SECONDS = 10
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


class ImageFailed(Exception):
    pass


def fetch(url: str) -> tuple[bytes, str]:
    """The image's bytes and content type; ImageFailed with a short reason otherwise."""
    request = urllib.request.Request(url, headers={"User-Agent": "Dispatch importer"})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            content_type = response.headers.get_content_type()
            data = response.read(MAX_IMAGE_BYTES + 1)
    except (URLError, OSError, ValueError) as error:
        raise ImageFailed(str(getattr(error, "reason", error))) from error
    if content_type not in EXTENSIONS:
        raise ImageFailed(f"not an image ({content_type})")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageFailed("larger than 15 MB")
    return data, content_type


class ImageCopier:
    """Copies each distinct URL once per import; a URL copied by an earlier run is reused."""

    def __init__(self, *, dry_run: bool, failures: list[str]) -> None:
        self.dry_run = dry_run
        self.failures = failures
        self.seen: dict[str, str] = {}
        self.written: list[str] = []  # deleted again if the import is rolled back
        self.count = 0

    def __call__(self, url: str) -> str:
        """Where an image of a body now lives: in media, or still at `url`."""
        name = self.copy(url, "the post keeps the remote address")
        return default_storage.url(name) if name else url

    def copy(self, url: str, otherwise: str) -> str | None:
        """The storage name of the copied image; None (and a line in the report saying `otherwise`) if not."""
        if url not in self.seen:
            self.seen[url] = self._copy(url, otherwise)
        return self.seen[url] or None

    def _copy(self, url: str, otherwise: str) -> str:
        if urlsplit(url).scheme not in ("http", "https"):
            if not url.startswith("data:"):
                self.failures.append(f"{url}: not a full web address (relative to the old site?); {otherwise}")
            return ""
        self.count += 1
        digest = hashlib.sha256(url.encode()).hexdigest()[:24]
        for extension in EXTENSIONS.values():
            if default_storage.exists(f"imports/{digest}{extension}"):
                return f"imports/{digest}{extension}"
        if self.dry_run:
            return ""
        try:
            data, content_type = fetch(url)
        except ImageFailed as error:
            self.failures.append(f"{url}: {error}; {otherwise}")
            return ""
        try:
            image = reencode(SimpleUploadedFile(f"{digest}{EXTENSIONS[content_type]}", data), max_side=COVER_MAX_SIDE)
        except forms.ValidationError as error:
            self.failures.append(f"{url}: {error.messages[0]}; {otherwise}")
            return ""
        name = default_storage.save(f"imports/{image.name}", image)
        self.written.append(name)
        return name

    def discard(self) -> None:
        for name in self.written:
            default_storage.delete(name)
