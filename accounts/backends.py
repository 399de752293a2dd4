"""Permission sets kept in the shared cache.

Every signed-in page asks about roles (is this reader a moderator, an author,
an editor?), and Django's ModelBackend answers with two queries per request.
Here the answer is kept in the shared cache under the user and a version that
any change to who holds what bumps, at commit: a stale set is never read
after the change that made it stale has committed.
"""

from typing import Any
from uuid import uuid4

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import User

VERSION_KEY = "permissions:version"
TIMEOUT = 24 * 3600


def _key(user: User) -> str:
    return f"permissions:{user.pk}:{user.is_superuser}"


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):  # ModelBackend's own per-request attribute
            found = cache.get_many([VERSION_KEY, _key(user_obj)])  # one round trip
            version, kept = found.get(VERSION_KEY), found.get(_key(user_obj))
            if version is not None and kept is not None and kept[0] == version:
                user_obj._perm_cache = kept[1]
            else:
                version = version or _start_version()
                user_obj._perm_cache = super().get_all_permissions(user_obj)
                cache.set(_key(user_obj), (version, user_obj._perm_cache), TIMEOUT)
        return user_obj._perm_cache


def _start_version() -> str:
    cache.add(VERSION_KEY, uuid4().hex, timeout=None)
    return cache.get(VERSION_KEY)


def permissions_changed() -> None:
    """Forget every kept permission set now, and again once the current transaction
    commits (a set read from the database meanwhile may predate the change)."""
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    cache.set(VERSION_KEY, uuid4().hex, timeout=None)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="permissions.user_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="permissions.user_permissions")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="permissions.group_permissions")
def _holders_changed(sender: type, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        permissions_changed()


@receiver([post_save, post_delete], sender=Group, dispatch_uid="permissions.group")
@receiver([post_save, post_delete], sender=Permission, dispatch_uid="permissions.permission")
def _definitions_changed(sender: type, **kwargs: Any) -> None:
    permissions_changed()
