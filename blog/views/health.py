"""Checks a load balancer or Varnish asks before sending a host traffic (docs/scaling.md).

`/healthz` (liveness) says only that this process answers: it touches nothing else, so a database
outage does not make every host look dead and get restarted at once. `/readyz` (readiness) asks the
database, the shared cache (Redis: rate limits, sessions' neighbours, progress) and the media storage;
a host failing it should get no traffic. Both answer fixed words: the errors, which name hosts and
users, go to the log."""

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from blog.shared import files

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, 1, 10)
    if cache.get(key) != 1:
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def _storage() -> None:
    # A name that is never written: the answer (False) proves the store answered and we may read it.
    files.public_storage().exists("readyz-probe")
    files.private_storage().exists("readyz-probe")


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache, "storage": _storage}


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    answers = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Readiness check: %s did not answer", name)
            answers[name] = "unavailable"
        else:
            answers[name] = "ok"
    ready = all(answer == "ok" for answer in answers.values())
    return JsonResponse({"status": "ok" if ready else "error", **answers}, status=200 if ready else 503)
