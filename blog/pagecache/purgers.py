"""Telling the shared cache in front which pages changed (docs/caching.md).

One setting, PAGE_CACHE_PURGER, picks how: nothing (no shared cache), a PURGE
request to each Varnish host (the xkey vmod, config/varnish/dispatch.vcl), or
a purge-by-key call to a CDN's API, Fastly's `Surrogate-Key` or Cloudflare's
cache tags. Each takes the surrogate keys a change touched (see http.py) and
raises on failure, so that the Celery task calling it retries.
"""

import json
import urllib.request
from collections.abc import Callable

from django.conf import settings

# Fastly takes at most 256 keys per call, Cloudflare 100 tags per request.
BATCH = {"fastly": 256, "cloudflare": 100}


class PurgeFailed(Exception):
    pass


def _send(url: str, method: str, headers: dict[str, str], data: bytes | None = None) -> None:
    # http(s) only: settings refuse any other scheme in PAGE_CACHE_PURGE_URLS.
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=settings.PAGE_CACHE_PURGE_TIMEOUT) as response:  # noqa: S310
            if response.status >= 300:
                raise PurgeFailed(f"{url} answered {response.status}")
    except OSError as error:  # URLError and HTTPError are OSErrors
        raise PurgeFailed(f"{method} {url}: {error}") from error


def varnish(url: str, keys: list[str]) -> None:
    """A PURGE whose `xkey-purge` header names the keys (space-separated: commas purged nothing on Varnish 6)."""
    _send(url, "PURGE", {"xkey-purge": " ".join(keys)})


def fastly(url: str, keys: list[str]) -> None:
    """Fastly's purge by surrogate key: POST /service/<id>/purge with the keys in a header."""
    _send(url, "POST", {"Surrogate-Key": " ".join(keys), "Fastly-Key": settings.PAGE_CACHE_PURGE_TOKEN})


def cloudflare(url: str, keys: list[str]) -> None:
    """Cloudflare's purge by cache tag: POST /zones/<id>/purge_cache {"tags": [...]}."""
    headers = {"Authorization": f"Bearer {settings.PAGE_CACHE_PURGE_TOKEN}", "Content-Type": "application/json"}
    _send(url, "POST", headers, json.dumps({"tags": keys}).encode())


PURGERS: dict[str, Callable[[str, list[str]], None]] = {"varnish": varnish, "fastly": fastly, "cloudflare": cloudflare}


def is_configured() -> bool:
    return bool(settings.PAGE_CACHE_PURGER)


def purge(keys: list[str]) -> None:
    """Purge these keys at every configured URL; raises PurgeFailed if any call failed."""
    if not settings.PAGE_CACHE_PURGER or not keys:
        return
    send = PURGERS[settings.PAGE_CACHE_PURGER]
    size = BATCH.get(settings.PAGE_CACHE_PURGER, len(keys))
    failures = []
    for url in settings.PAGE_CACHE_PURGE_URLS:
        for start in range(0, len(keys), size):
            try:
                send(url, keys[start : start + size])
            except PurgeFailed as error:
                failures.append(str(error))
    if failures:
        raise PurgeFailed("; ".join(failures))
