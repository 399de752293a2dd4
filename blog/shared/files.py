"""Where files live. Public media (covers, avatars, body images, previews, logos) is Django's default
storage; import uploads and exports are the "private" storage, never given a public URL. Both are
chosen in settings (MEDIA_STORAGE): this host's disk for `make run`, an S3 bucket shared by every host
in production (docs/scaling.md). Nothing else opens a media path directly."""

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """PRIVATE_ROOT on this host's disk, read when used (so a test may point it elsewhere); no URL."""

    @property
    def base_location(self) -> str:
        return str(getattr(self, "_location", None) or settings.PRIVATE_ROOT)

    @property
    def location(self) -> str:
        return str(Path(self.base_location).resolve())

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL; they are streamed by a view that checks who asks.")


def private_storage() -> Storage:
    return storages["private"]


def public_storage() -> Storage:
    return storages["default"]


def save_private(name: str, content: "IO[bytes] | File[bytes]") -> str:
    """Store `content` under `name` (or a free variant of it); returns the name to keep."""
    return private_storage().save(name, content if isinstance(content, File) else File(content, name=name))


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A private file as a path on this host, for readers that need to seek (zipfile). On disk that is
    the file itself; from a bucket, a temporary copy deleted afterwards."""
    storage = private_storage()
    if isinstance(storage, FileSystemStorage):
        yield Path(storage.path(name))
        return
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy, storage.open(name, "rb") as source:
        shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.flush()
        yield Path(copy.name)


def walk(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file's name under `folder`, in a stable order."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a folder on disk not made yet
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from walk(storage, f"{folder}/{sub}" if folder else sub)


def move_to_storage(root: Path, storage: Storage, report: Callable[[str, bool], None]) -> tuple[int, int]:
    """Copy every file under `root` into `storage` under the same name: (copied, already there).

    Resumable and idempotent: a name already stored with the same size is skipped, so a run cut short
    is simply run again; one stored with another size (a copy cut short) is written again. Local
    files are left in place until the operator removes them (docs/scaling.md)."""
    copied = skipped = 0
    if not root.is_dir():
        return copied, skipped
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        if storage.exists(name):
            if storage.size(name) == path.stat().st_size:
                skipped += 1
                report(name, False)
                continue
            storage.delete(name)
        with path.open("rb") as source:
            stored = storage.save(name, File(source, name=name))
        if stored != name:  # the storage chose another name: the database's references would break
            storage.delete(stored)
            raise RuntimeError(f"{name} was stored as {stored}; is another process writing to the bucket?")
        copied += 1
        report(name, True)
    return copied, skipped
