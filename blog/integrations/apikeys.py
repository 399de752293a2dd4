"""API keys for the publication's own tools: made and revoked by the owner,
shown once, kept as a SHA-256 hash, each with its scopes (see docs/api.md)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from blog.models import ApiKey

KEY_PREFIX = "dsp_"


@dataclass
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown to its maker once and never stored


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(user: User, name: str, scopes: list[str], *, trusted_import: bool = False) -> NewKey:
    name = name.strip()
    if not name:
        raise ValidationError("Name the integration that will use this key.")
    if not scopes or set(scopes) - set(ApiKey.Scope.values):
        raise ValidationError("Choose at least one scope from the list.")
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name[:100], prefix=prefix, hashed_key=_digest(raw), scopes=sorted(set(scopes)),
        trusted_import=trusted_import, created_by=user,
    )  # fmt: skip
    return NewKey(key, raw)


def revoke_key(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def key_for(raw: str) -> ApiKey | None:
    """The live key `raw` names, or None (unknown, malformed, revoked, or its maker's account closed)."""
    prefix = raw.removeprefix(KEY_PREFIX).partition("_")[0]
    if not raw.startswith(KEY_PREFIX) or not prefix:
        return None
    key = ApiKey.objects.select_related("created_by").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.hashed_key, _digest(raw)):
        return None
    if key.revoked_at is not None or not key.created_by.is_active:
        return None
    return key


def mark_used(key: ApiKey) -> None:
    """At most once a minute: a busy integration does not write on every request."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
