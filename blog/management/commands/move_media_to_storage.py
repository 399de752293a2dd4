from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from blog.shared import files


class Command(BaseCommand):
    help = (
        "Copy media from this host's disk (MEDIA_ROOT, PRIVATE_ROOT) into the configured storages "
        "(MEDIA_STORAGE=s3). Safe to run again: files already there are skipped."
    )

    def handle(self, *args: object, **options: object) -> None:
        moves = [
            (Path(settings.MEDIA_ROOT), files.public_storage(), "public"),
            (Path(settings.PRIVATE_ROOT), files.private_storage(), "private"),
        ]
        for root, storage, label in moves:
            copied, skipped = files.move_to_storage(root, storage, self.report)
            self.stdout.write(f"{label}: {copied} copied, {skipped} already there (from {root})")

    def report(self, name: str, copied: bool) -> None:
        self.stdout.write(f"{'copied' if copied else 'skipped'} {name}")
