from blog.imports.archive import ImportRefused, SafeZip
from blog.imports.steps import Importer


def matches(archive: SafeZip) -> bool:
    return "manifest.json" in archive.names


def load(archive: SafeZip, importer: Importer) -> None:
    raise ImportRefused("Restoring a Dispatch export is not available yet.")
