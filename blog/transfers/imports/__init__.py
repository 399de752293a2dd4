"""Importing a publication: Substack (ZIP), Ghost (JSON), WordPress (WXR) or a Dispatch export (ZIP).

`run_import` is the one entry point for the desk's dry run, the worker's
import and `manage.py import_publication`. An import is one transaction:
a file it cannot take at all leaves nothing behind, and a dry run is the
same import rolled back (without downloading images)."""

import zipfile
import zlib
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from django.db import transaction

from accounts.models import User
from blog.transfers.imports import dispatch, ghost, substack, wordpress
from blog.transfers.imports.archive import ImportRefused, SafeZip, check_document_size, check_size, sniff
from blog.transfers.imports.steps import Importer, Progress, Report, given_timestamps

__all__ = ["ImportRefused", "Report", "run_import"]


class _DryRunDone(Exception):
    pass


def _no_progress(done: int, total: int) -> None:
    pass


def _loader(path: Path, archive: SafeZip | None, trust_accounts: bool) -> tuple[str, Callable[[Importer], None]]:
    """The source's name and the function that loads it, from the file's content."""
    if archive is None:
        check_document_size(path)
        kind = sniff(path)
        if kind == "xml":
            return "wordpress", lambda importer: wordpress.load(path.read_bytes(), importer)
        if kind == "csv":
            return "ghost", lambda importer: ghost.load_members_csv(path.read_bytes(), path.name, importer)
        return "ghost", lambda importer: ghost.load(path.read_bytes(), importer)
    if dispatch.matches(archive):
        return "dispatch", lambda importer: dispatch.load(archive, importer, trust_accounts=trust_accounts)
    if substack.matches(archive):
        return "substack", lambda importer: substack.load(archive, importer)
    inner = [name for name in archive.names if name.endswith((".json", ".xml"))]
    if len(inner) == 1 and inner[0].endswith(".xml"):
        return "wordpress", lambda importer: wordpress.load(archive.read(inner[0]), importer)
    if len(inner) == 1:
        return "ghost", lambda importer: ghost.load(archive.read(inner[0]), importer)
    raise ImportRefused(
        "This ZIP is not an export Dispatch knows: a Substack export has posts.csv, "
        "a Dispatch export has manifest.json."
    )


def run_import(
    path: Path,
    *,
    user: User | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    site_data: bool | None = None,
    operator: bool = False,
    trust_accounts: bool = False,
    unsubscribe_missing: bool = False,
    old_site: str = "",
) -> Report:
    """Import the export at `path` as `user`, whose byline posts get when the export names no author.

    `site_data` (subscribers, comments, other bylines) defaults to those who manage subscribers,
    or no user: the command line. `operator` is the command line given an author: trusted like
    no user at all (docs/security.md, "Imports and restores"). `trust_accounts` (the command
    line only) restores a Dispatch export's staff and superuser flags, groups and passwords."""
    operator = operator or user is None
    if site_data is None:
        site_data = operator or (user is not None and user.has_perm("blog.manage_subscribers"))
    report = Report(dry_run=dry_run)
    archive = None
    importer = None
    try:
        check_size(path)
        archive = SafeZip(path) if sniff(path) == "zip" else None
        report.source, load = _loader(path, archive, trust_accounts)
        # Dates matter only when rows are kept; a dry run (in a web process,
        # perhaps beside other threads) leaves the model fields alone.
        with transaction.atomic(), nullcontext() if dry_run else given_timestamps():
            importer = Importer(
                report.source,
                report,
                user,
                dry_run=dry_run,
                progress=progress or _no_progress,
                site_data=site_data,
                operator=operator,
            )
            importer.unsubscribe_missing, importer.old_site = unsubscribe_missing, old_site
            load(importer)
            importer.finish()
            if dry_run:
                raise _DryRunDone
    except _DryRunDone:
        pass
    except ImportRefused as error:
        report.refused = str(error)
        _reset(report)
    except (zlib.error, zipfile.BadZipFile, EOFError) as error:
        # A member whose compressed data is corrupt fails only when read, after the checks at opening.
        report.refused = f"A file inside {path.name} is damaged or cut short ({error}); export it again."
        _reset(report)
    except BaseException:
        if importer:
            importer.images.discard()
        raise
    finally:
        if archive:
            archive.close()
    if report.refused and importer:
        importer.images.discard()
    return report


def _reset(report: Report) -> None:
    """A refused import created nothing: the report says so and only why."""
    report.counts.clear()
    report.notes.clear()
