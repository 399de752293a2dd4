"""Rate limits for public forms and buttons, counted in the shared cache.

Fixed windows with atomic increments: `cache.add` starts a window and
`cache.incr` counts in it, both atomic on Redis, so concurrent requests
against a limit of N let exactly N through. Production must use Redis
(CACHE_URL); the local-memory default only holds within one process.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.client_ip import address_key as address_key  # re-exported: the one rule for every limit
from accounts.client_ip import client_ip as client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'5/m' -> (5, 60); '30/h' -> (30, 3600)."""
    count, _, unit = rate.partition("/")
    return int(count), PERIODS[unit]


def hit(key: str, rate: str) -> bool:
    """Count one event against `key`; False once the rate is exceeded."""
    limit, period = parse_rate(rate)
    window_key = f"ratelimit:{key}:{int(time.time() // period)}"
    if cache.add(window_key, 1, timeout=period + 1):
        return limit >= 1
    try:
        return cache.incr(window_key) <= limit
    except ValueError:  # the window expired between add and incr
        cache.add(window_key, 1, timeout=period + 1)
        return limit >= 1


def allow(request: HttpRequest, scope: str, rate: str) -> bool:
    """Count a request per signed-in reader and per IP; both must be within the rate."""
    if not settings.RATELIMIT_ENABLED:
        return True
    keys = [f"{scope}:ip:{address_key(client_ip(request))}"]
    if request.user.is_authenticated:
        keys.append(f"{scope}:user:{request.user.pk}")
    return all([hit(key, rate) for key in keys])


def too_many_requests(request: HttpRequest, message: str) -> HttpResponse:
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"error": message}, status=429)
    return render(request, "429.html", {"message": message}, status=429)


View = Callable[..., HttpResponse]


def rate_limit(
    scope: str, rate: str, message: str = "You're doing that too often. Please wait a minute."
) -> Callable[[View], View]:
    """View decorator: answer 429 with `message` once `rate` is exceeded."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST" and not allow(request, scope, rate):
                return too_many_requests(request, message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
