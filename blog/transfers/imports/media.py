"""Images of imported posts: copied into media when their URL answers, else left where they are.

A copy is drawn again like an upload (accounts.images): capped in pixels
before decoding, turned upright, scaled down, with no EXIF.

The URLs come from an uploaded file, so fetching them must not become a way
into the worker's network (docs/security.md, "Imports and restores"). Each
hop's host must name only public addresses, and the connection goes to the
very address checked (blog/shared/outbound.py); redirects are followed here, a few
at most, each checked again; size and total time are capped. Every failure reads "could not
fetch": the network's own error would tell a port scanner what answers."""

import hashlib
import http.client
import time
from urllib.parse import urljoin, urlsplit

from django import forms
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.images import COVER_MAX_SIDE, reencode
from blog.shared import outbound

MAX_IMAGE_BYTES = 15 * 1024**2
TIMEOUT_SECONDS = 10  # any one connect or read
TOTAL_SECONDS = 30  # one image, redirects included
MAX_REDIRECTS = 4
MAX_IMAGES = 2000  # per import: each may take TOTAL_SECONDS, and an export could name millions
REDIRECTS = {301, 302, 303, 307, 308}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


class ImageFailed(Exception):
    pass


def _addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, if all are public (blog/shared/outbound.py); one that is not refuses the
    host."""
    try:
        return outbound.checked_addresses(host, port, settings.IMPORT_FETCH_ALLOWED_NETWORKS)
    except (outbound.Unresolved, outbound.Refused) as error:
        raise ImageFailed("could not fetch") from error


def _open(url: str, deadline: float) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageFailed("could not fetch")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _addresses(parts.hostname, port)[0]
    timeout = max(0.1, min(TIMEOUT_SECONDS, deadline - time.monotonic()))
    connection = outbound.connection(parts.hostname, port, address, https=parts.scheme == "https", timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"User-Agent": "Dispatch importer", "Accept": "image/*"})
        return connection, connection.getresponse()
    except BaseException:
        connection.close()
        raise


def _body(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body, at most MAX_IMAGE_BYTES, read before the deadline however slowly the server sends it."""
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_IMAGE_BYTES:
        raise ImageFailed("it is larger than 15 MB")
    chunks, size = [], 0
    while chunk := response.read1(64 * 1024):
        size += len(chunk)
        if size > MAX_IMAGE_BYTES:
            raise ImageFailed("it is larger than 15 MB")
        if time.monotonic() > deadline:
            raise ImageFailed("could not fetch")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(url: str) -> tuple[bytes, str]:
    """The image's bytes and content type; ImageFailed with a short reason otherwise."""
    deadline = time.monotonic() + TOTAL_SECONDS
    for _ in range(MAX_REDIRECTS + 1):
        try:
            connection, response = _open(url, deadline)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise ImageFailed("could not fetch") from error
        try:
            if response.status in REDIRECTS and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location", ""))
                continue
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if response.status != 200:
                raise ImageFailed("could not fetch")
            if content_type not in EXTENSIONS:
                raise ImageFailed("it is not an image")
            return _body(response, deadline), content_type
        except (OSError, http.client.HTTPException) as error:
            raise ImageFailed("could not fetch") from error
        finally:
            connection.close()
    raise ImageFailed("could not fetch")  # too many redirects


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
        if self.count > MAX_IMAGES:
            if self.count == MAX_IMAGES + 1:
                self.failures.append(f"An import copies at most {MAX_IMAGES} images; the others keep their addresses.")
            return ""
        digest = hashlib.sha256(url.encode()).hexdigest()[:24]
        for extension in EXTENSIONS.values():
            if default_storage.exists(f"imports/{digest}{extension}"):
                return f"imports/{digest}{extension}"
        if self.dry_run:
            return ""
        try:
            data, content_type = fetch(url)
        except ImageFailed as error:
            reason = "" if str(error) == "could not fetch" else f": {error}"
            self.failures.append(f"could not fetch {url}{reason}; {otherwise}")
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
