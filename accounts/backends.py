"""Signed-in users and their permission sets, kept in the shared cache.

Every signed-in request loads its user, and most ask about roles (is this
reader a moderator, an author, an editor?). Django's backend answers with a
query for the user and two for the permissions; here both come from the
shared cache in one round trip, each copy kept under two versions:

- the user's own, bumped when their row is saved, updated or deleted;
- everyone's, bumped when groups or permissions change.

A version is bumped at once and again when the transaction commits, so a
copy read from the database before a change committed carries the old
versions and is never used after it.

Copies hold the user's row as it is in the database, password hash included
(the session check compares against it): the cache must be as private as the
database, which sessions in it already require.
"""

import zlib
from typing import Any
from uuid import uuid4

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import User, users_updated

TIMEOUT = 24 * 3600
EVERYONE = "accounts:version"
FIELDS = [field.attname for field in User._meta.concrete_fields]
# A deploy that changes the user's columns must not read rows stored before it.
_SHAPE = zlib.crc32(",".join(FIELDS).encode())


def _keys(pk: int) -> tuple[str, str, str]:
    return f"accounts:version:{pk}", f"accounts:user:{pk}:{_SHAPE}", f"accounts:permissions:{pk}"


class CachedAuthenticationBackend(AuthenticationBackend):  # type: ignore[misc]  # allauth ships no type information
    """allauth's backend (log-in by e-mail, as the site offers), with users and
    their permissions read from the shared cache."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        versions, row, permissions = _read(pk)
        user = User.from_db(DEFAULT_DB_ALIAS, FIELDS, row) if row is not None else _load(pk, versions)
        if user is None:
            return None
        if permissions is not None:
            user._perm_cache = permissions  # type: ignore[attr-defined]  # ModelBackend's own per-request attribute
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            versions, _, permissions = _read(user_obj.pk, with_row=False)
            if permissions is None:
                permissions = super().get_all_permissions(user_obj)
                cache.set(_keys(user_obj.pk)[2], (versions, permissions), TIMEOUT)
            user_obj._perm_cache = permissions
        cached: set[str] = user_obj._perm_cache
        return cached


Versions = tuple[str | None, str | None]


def _load(pk: int, versions: Versions) -> User | None:
    user = User._default_manager.filter(pk=pk).first()
    if user is not None:
        cache.set(_keys(pk)[1], (versions, [getattr(user, name) for name in FIELDS]), TIMEOUT)
    return user


def _read(pk: int, with_row: bool = True) -> tuple[Versions, list[Any] | None, set[str] | None]:
    """The current versions and, where kept under them, the user's row and permission set."""
    version_key, row_key, permissions_key = _keys(pk)
    found = cache.get_many([EVERYONE, version_key, permissions_key] + ([row_key] if with_row else []))
    versions: Versions = (found.get(EVERYONE), found.get(version_key))
    if None in versions:
        cache.add(EVERYONE, uuid4().hex, timeout=None)
        cache.add(version_key, uuid4().hex, timeout=TIMEOUT)
        found = cache.get_many([EVERYONE, version_key])
        return (found.get(EVERYONE), found.get(version_key)), None, None

    def current(key: str) -> Any:
        kept = found.get(key)
        return kept[1] if kept is not None and kept[0] == versions else None

    return versions, current(row_key), current(permissions_key)


def users_changed(pks: list[int]) -> None:
    keys = [_keys(pk)[0] for pk in pks]
    _bump(keys, TIMEOUT)
    transaction.on_commit(lambda: _bump(keys, TIMEOUT), robust=True)  # a Redis error must not skip later hooks


def everyone_changed() -> None:
    _bump([EVERYONE], None)
    transaction.on_commit(lambda: _bump([EVERYONE], None), robust=True)


def _bump(keys: list[str], timeout: int | None) -> None:
    cache.set_many({key: uuid4().hex for key in keys}, timeout=timeout)


@receiver([post_save, post_delete], sender=User, dispatch_uid="accounts.user_saved")
def _user_saved(sender: type, instance: User, **kwargs: Any) -> None:
    users_changed([instance.pk])


@receiver(users_updated, dispatch_uid="accounts.users_updated")
def _users_updated(sender: type, pks: list[int], **kwargs: Any) -> None:
    users_changed(pks)


@receiver([post_save, post_delete], sender=Group, dispatch_uid="permissions.group")
@receiver([post_save, post_delete], sender=Permission, dispatch_uid="permissions.permission")
def _everyone_changed(sender: type, **kwargs: Any) -> None:
    everyone_changed()


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="permissions.user_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="permissions.user_permissions")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="permissions.group_permissions")
def _holders_changed(sender: type, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        everyone_changed()
