"""Opening an uploaded export without trusting it.

A ZIP's names may climb out of any folder (`../`), its sizes may lie (a ZIP
bomb), a file may be cut short or be something else entirely. Everything is
checked before a single row is read, and reads are capped again as they
happen.

What one member may unpack to depends on how it is read (`member_limit`):
a document parsed whole (JSON, XML, a CSV held as a list) takes some thirty
times its size in memory, so it gets a few megabytes; a file read a line at
a time gets more; a post's body, a medium. zipfile never unpacks more than a
member's declared size, so checking that size before opening it is enough."""

import posixpath
import zipfile
from pathlib import Path
from typing import IO

from django.conf import settings

MAX_FILES = 50_000
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
MAX_BODY_BYTES = 5 * 1024**2  # one post's HTML or Markdown
MAX_MEDIA_BYTES = 100 * 1024**2  # one file of a Dispatch export's media/ (a recording, say)


class ImportRefused(Exception):
    """The export cannot be imported at all; the message says why, for the writer."""


def check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > settings.IMPORT_MAX_BYTES:
        raise ImportRefused(
            f"The file is {size / 1024**2:.0f} MB; the largest import is {settings.IMPORT_MAX_BYTES / 1024**2:.0f} MB."
        )
    if size == 0:
        raise ImportRefused("The file is empty.")


def member_limit(name: str) -> int:
    """The most one member may unpack to, by how it is read."""
    if name.startswith("media/"):
        return MAX_MEDIA_BYTES
    if name.startswith("data/"):
        return MAX_UNCOMPRESSED_BYTES  # a Dispatch export's rows, a line at a time; restored by a superuser only
    if name.startswith("email_list"):
        return int(settings.IMPORT_MAX_STREAMED_BYTES)  # Substack's list, a row at a time
    if name.endswith((".html", ".md")):
        return MAX_BODY_BYTES
    return int(settings.IMPORT_MAX_DOCUMENT_BYTES)  # parsed whole


def check_document_size(path: Path) -> None:
    """A JSON or XML file uploaded as it is gets parsed whole, like one inside a ZIP."""
    _check_limit("The file", path.stat().st_size, int(settings.IMPORT_MAX_DOCUMENT_BYTES))


def _check_limit(what: str, size: int, limit: int) -> None:
    if size > limit:
        raise ImportRefused(
            f"{what} unpacks to {size / 1024**2:.0f} MB; an import takes at most {limit / 1024**2:.0f} MB for it. "
            "Split the export (WordPress exports by date), or ask whoever runs the site to import it from the server."
        )


def sniff(path: Path) -> str:
    """ "zip", "xml" or "json", from the first bytes, not the file name."""
    with path.open("rb") as file:
        head = file.read(512)
    if head.startswith(b"PK"):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "xml"
    if text.startswith((b"{", b"[")):
        return "json"
    if text.split(b"\n", 1)[0].strip().lower().split(b",")[0].strip(b'"') == b"email":
        return "csv"  # a members list (Ghost's CSV)
    raise ImportRefused(
        "This is not an export Dispatch knows: upload a Substack or Dispatch ZIP, "
        "a Ghost JSON file or members CSV, or a WordPress WXR (XML) file."
    )


class SafeZip:
    """A ZIP whose member names and sizes were checked; `read` caps each member again."""

    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ImportRefused(f"The ZIP file is damaged or cut short ({error}).") from error
        infos = self.zip.infolist()
        if len(infos) > MAX_FILES:
            raise ImportRefused(f"The ZIP holds {len(infos)} files; the most an import takes is {MAX_FILES}.")
        total = sum(info.file_size for info in infos)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ImportRefused(
                f"The ZIP unpacks to {total / 1024**2:.0f} MB; the most an import takes is "
                f"{MAX_UNCOMPRESSED_BYTES / 1024**2:.0f} MB."
            )
        for info in infos:
            if not self._is_safe(info.filename):
                raise ImportRefused(f"The ZIP holds a file outside its own folder (“{info.filename}”); refused.")
        files = [info for info in infos if not info.is_dir() and not info.filename.startswith("__MACOSX/")]
        # An export zipped again by hand often sits in one folder: read it as if it did not.
        tops = {info.filename.split("/", 1)[0] for info in files}
        folder = f"{tops.pop()}/" if len(tops) == 1 and all("/" in info.filename for info in files) else ""
        self.names = {info.filename.removeprefix(folder): info for info in files}

    @staticmethod
    def _is_safe(name: str) -> bool:
        normal = posixpath.normpath(name.replace("\\", "/"))
        return not (normal.startswith(("/", "../")) or normal == ".." or ":" in normal.split("/")[0])

    def read(self, name: str, limit: int | None = None) -> bytes:
        """One member whole, refused before unpacking if it declares more than its kind may hold."""
        limit = member_limit(name) if limit is None else limit
        info = self.names[name]
        _check_limit(f"“{name}”", info.file_size, limit)
        with self.zip.open(info) as member:
            data = member.read(limit + 1)
        _check_limit(f"“{name}”", len(data), limit)
        return data

    def open(self, name: str) -> IO[bytes]:
        """A stream of one member; zipfile stops at its declared size, checked here first."""
        _check_limit(f"“{name}”", self.names[name].file_size, member_limit(name))
        return self.zip.open(self.names[name])

    def close(self) -> None:
        self.zip.close()
