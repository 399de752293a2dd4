"""Who is calling the API and how often: API keys (optional for reading),
scopes, and the published rate limits counted in the shared cache
(blog/shared/ratelimits.py), answered with 429 and Retry-After."""

import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from blog.integrations import apikeys
from blog.models import ApiKey
from blog.shared import ratelimits

PUBLIC = "public"  # request.auth of a call without a key


class KeyAuth(HttpBearer):
    """`Authorization: Bearer dsp_...`. A key that is wrong or revoked is refused
    with 401 even where no key is needed: a tool should learn its key is dead."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        key = apikeys.key_for(token.strip())
        if key is None:
            raise HttpError(401, "This API key is not valid, or it was revoked.")
        apikeys.mark_used(key)
        return key


def public(request: HttpRequest) -> str:
    return PUBLIC


def key_of(request: HttpRequest) -> ApiKey | None:
    auth: Any = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


def require_scope(request: HttpRequest, scope: ApiKey.Scope) -> ApiKey:
    key = key_of(request)
    if key is None:
        raise HttpError(401, "This needs an API key (Authorization: Bearer dsp_...).")
    if not key.has_scope(scope):
        raise HttpError(403, f"This API key lacks the “{scope.value}” scope.")
    return key


class SharedCacheThrottle(BaseThrottle):
    """Fixed windows counted atomically in the shared cache: per key with a key,
    per client address without. The rates are published in docs/api.md."""

    def __init__(self) -> None:
        self._period = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        if not settings.RATELIMIT_ENABLED:
            return True
        key = key_of(request)
        if key is not None:
            scope, rate = f"api:key:{key.pk}", settings.API_KEY_RATE
        else:
            scope, rate = f"api:ip:{ratelimits.address_key(ratelimits.client_ip(request))}", settings.API_PUBLIC_RATE
        self._period.seconds = ratelimits.parse_rate(rate)[1]
        return ratelimits.hit(scope, rate)

    def wait(self) -> float:
        """Seconds until the current window ends."""
        period = getattr(self._period, "seconds", 60)
        return period - time.time() % period
