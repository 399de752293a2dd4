from blog.imports.archive import ImportRefused
from blog.imports.steps import Importer


def load(data: bytes, importer: Importer) -> None:
    raise ImportRefused("wordpress imports are not available yet.")
