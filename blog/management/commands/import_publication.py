import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from blog.transfers.imports import Report, run_import


class Command(BaseCommand):
    help = (
        "Import a Substack export (ZIP), a Ghost export (JSON), a WordPress export (WXR) "
        "or a Dispatch export (ZIP, into an empty site). Sends no e-mail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen; change nothing.")
        parser.add_argument(
            "--unsubscribe-missing",
            action="store_true",
            help="Unsubscribe people an earlier import of this platform brought who are missing from this list.",
        )
        parser.add_argument(
            "--old-site-address",
            default="",
            help="The Ghost site's address, which its export writes as __GHOST_URL__ (e.g. https://blog.example.com).",
        )
        parser.add_argument(
            "--author", help="Handle of the account for posts whose export names no author (default: the first staff)."
        )
        parser.add_argument(
            "--trust-accounts",
            action="store_true",
            help="Restoring a Dispatch export you made yourself: give the accounts it creates their staff and "
            "superuser flags, groups and password hashes from the file (never done otherwise).",
        )

    def handle(
        self,
        *args: Any,
        file: Path,
        dry_run: bool,
        author: str | None,
        unsubscribe_missing: bool,
        old_site_address: str,
        trust_accounts: bool = False,
        **options: Any,
    ) -> None:
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        user = None
        if author:
            user = User.objects.filter(username__iexact=author).first()
            if user is None:
                raise CommandError(f"No account with the handle “{author}”.")
        report = run_import(
            file,
            user=user,
            dry_run=dry_run,
            progress=self.progress_bar,
            site_data=True,
            operator=True,
            trust_accounts=trust_accounts,
            unsubscribe_missing=unsubscribe_missing,
            old_site=old_site_address,
        )
        self.stderr.write("")
        self.print_report(report)
        if report.refused:
            raise CommandError("Nothing was imported.")

    def progress_bar(self, done: int, total: int) -> None:
        width = 40
        filled = width * done // total if total else width
        percent = 100 * done // total if total else 100
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {done}/{total}", ending="")
        sys.stderr.flush()

    def print_report(self, report: Report) -> None:
        title = "Dry run, nothing changed" if report.dry_run else "Imported"
        self.stdout.write(f"{title} ({report.source or 'unknown format'}):")
        for line in report.summary():
            self.stdout.write(f"  {line}")
        for problem in report.problems:
            self.stdout.write(f"  ! {problem}")
        for failure in report.image_failures:
            self.stdout.write(f"  image not copied: {failure}")
