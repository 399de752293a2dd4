"""Import uploads and exports were kept as absolute paths under PRIVATE_ROOT; they are now names in
private storage (blog/shared/files.py), relative to it, so that a bucket can hold them."""

from pathlib import Path

from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def names_in_private_storage(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    root = Path(settings.PRIVATE_ROOT).resolve()
    for model_name in ("ImportJob", "ExportJob"):
        model = apps.get_model("blog", model_name)
        for job in model.objects.filter(path__startswith="/"):
            path = Path(job.path)
            if path.is_relative_to(root):
                model.objects.filter(pk=job.pk).update(path=path.relative_to(root).as_posix())


class Migration(migrations.Migration):
    dependencies = [("blog", "0023_import_sites_and_options")]

    operations = [migrations.RunPython(names_in_private_storage, migrations.RunPython.noop)]
