"""Roles are Django groups; readers are users in no group.

The groups and their permissions are kept in step with this table after
every migrate (and every test-database flush) by `sync_roles`; the
Publishers group was first made by accounts/migrations/0006_publishers.py.

The Publisher owns the publication: everything a solo writer needs (writing
and sending every post, subscribers and members, import and export, the site
settings, the welcome e-mail, moderating), so that `createsuperuser` is never
needed for daily work. Restoring a whole site archive into an empty site
stays with superusers and the command line."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.http.response import HttpResponseBase

PUBLISHERS = "Publishers"
AUTHORS = "Authors"
EDITORS = "Editors"
MODERATORS = "Moderators"

WRITING = ["blog.add_post", "blog.change_post", "blog.view_post"]
MODERATING = ["blog.view_post", "blog.moderate_comment", "blog.view_comment", "blog.change_comment"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    PUBLISHERS: sorted(
        {
            *WRITING,
            *MODERATING,
            "blog.change_any_post",
            "blog.manage_subscribers",
            "blog.change_site",
            "blog.manage_integrations",
        }
    ),
    AUTHORS: WRITING,
    EDITORS: [*WRITING, "blog.change_any_post"],
    MODERATORS: MODERATING,
}
# How a 403 page names each role in its sentence, owner first.
ROLE_NAMES = {PUBLISHERS: "the publisher", EDITORS: "editors", AUTHORS: "authors", MODERATORS: "moderators"}
# The User properties that role_required checks, as the permission behind each.
ROLE_PROPERTIES = {"is_author": "blog.add_post", "is_moderator": "blog.moderate_comment"}

View = Callable[..., HttpResponseBase]


def sync_roles(**kwargs: Any) -> None:
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = Q(pk__in=[])
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))


def who_can(*perms: str) -> str:
    """The sentence a forbidden page shows: which roles may do this."""
    names = [ROLE_NAMES[role] for role in ROLE_NAMES if set(perms) <= set(ROLE_PERMISSIONS[role])]
    if not names:
        return "Only a superuser can do this, from the admin or the command line."
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"Only {listed} can do this. Ask the publisher if you need it."


def forbidden(*perms: str) -> PermissionDenied:
    return PermissionDenied(who_can(*perms))


def permission_required(*perms: str) -> Callable[[View], View]:
    """Visitors go to sign in; signed-in users without every one of `perms`
    get the site's 403 page, saying who may do this."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perms(perms):
                raise forbidden(*perms)
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator
