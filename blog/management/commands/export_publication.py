import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from blog.transfers.exports import export_publication


class Command(BaseCommand):
    help = "Export the whole publication (posts as Markdown, media, one JSON document per kind) to a ZIP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="Where to write the ZIP, e.g. dispatch-export.zip")
        parser.add_argument(
            "--with-password-hashes", action="store_true", help="Include password hashes (keep the file safe)."
        )

    def handle(self, *args: Any, out: Path, with_password_hashes: bool, **options: Any) -> None:
        counts = export_publication(out, with_password_hashes=with_password_hashes, progress=self.progress)
        self.stderr.write("")
        self.stdout.write(f"Wrote {out}: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()))

    def progress(self, kind: str) -> None:
        self.stderr.write(f"\rwriting {kind:<24}", ending="")
        sys.stderr.flush()
