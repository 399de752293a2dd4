"""Tags saved before blog.posts.tagslugs could hold unicode slugs (taggit's default), which
the `t/<slug:slug>/` route cannot reverse: every page listing one answered 500.
This gives each such tag an ASCII slug; names are left as they are."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from blog.posts.tagslugs import ROUTABLE, free_tag_slug


def repair_tag_slugs(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Tag = apps.get_model("taggit", "Tag")
    for tag in Tag.objects.order_by("pk"):
        if not ROUTABLE.match(tag.slug or ""):
            tag.slug = free_tag_slug(Tag, tag.name, exclude_pk=tag.pk)
            tag.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0021_federation"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(repair_tag_slugs, migrations.RunPython.noop)]
