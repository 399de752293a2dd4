"""The Publishers group: the owner's role (accounts/roles.py). sync_roles keeps
it current after every migrate; this makes it, with its permissions, as soon as
the migration runs, so that an install can hand out the role right away."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Q

PERMISSIONS = [
    "blog.add_post",
    "blog.change_any_post",
    "blog.change_comment",
    "blog.change_post",
    "blog.change_site",
    "blog.manage_subscribers",
    "blog.moderate_comment",
    "blog.view_comment",
    "blog.view_post",
]


def make_publishers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Content types and permissions are made after all migrations, unless asked for now.
    blog = apps.get_app_config("blog")
    blog.models_module = True
    create_contenttypes(blog, apps=apps, verbosity=0)
    create_permissions(blog, apps=apps, verbosity=0)
    blog.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Q(pk__in=[])
    for perm in PERMISSIONS:
        app_label, codename = perm.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group, _ = Group.objects.get_or_create(name="Publishers")
    group.permissions.add(*Permission.objects.filter(wanted))


def remove_publishers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name="Publishers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_time_zone"),
        ("blog", "0020_site_settings_and_members"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(make_publishers, remove_publishers)]
