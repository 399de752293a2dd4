"""Roles are Django groups; readers are users in no group.

The groups and their permissions are kept in step with this table after
every migrate (and every test-database flush) by `sync_roles`."""

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

AUTHORS = "Authors"
EDITORS = "Editors"
MODERATORS = "Moderators"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AUTHORS: ["blog.add_post", "blog.change_post", "blog.view_post"],
    EDITORS: ["blog.add_post", "blog.change_post", "blog.view_post", "blog.change_any_post"],
    MODERATORS: ["blog.view_post", "blog.moderate_comment", "blog.view_comment", "blog.change_comment"],
}


def sync_roles(**kwargs: Any) -> None:
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = Q(pk__in=[])
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))
