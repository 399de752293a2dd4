import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from blog import ratelimits


@pytest.fixture(autouse=True)
def _clear_cache():
    caches["default"].clear()


def test_it_allows_up_to_the_limit_then_refuses() -> None:
    results = [ratelimits.hit("t:one", "3/m") for _ in range(5)]
    assert results == [True, True, True, False, False]


def test_limits_are_counted_per_key() -> None:
    assert all(ratelimits.hit("t:a", "2/m") for _ in range(2))
    assert ratelimits.hit("t:b", "2/m")


def test_forwarded_for_is_ignored_without_a_trusted_proxy(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="10.0.0.9")
    assert ratelimits.client_ip(request) == "10.0.0.9"


def test_forwarded_for_is_read_from_the_proxy_we_run(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # The visitor forged the first entry; our proxy appended the real one.
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.1")
    assert ratelimits.client_ip(request) == "203.0.113.7"


@pytest.mark.integration
def test_concurrent_requests_against_redis_let_exactly_the_limit_through(settings, require_service) -> None:
    url = os.environ.get("CACHE_URL", "")
    require_service("Redis cache", url.startswith("redis://"), "set CACHE_URL=redis://... to run")
    import environ

    settings.CACHES = {"default": environ.Env.cache_url_config(url)}
    caches["default"].clear()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: ratelimits.hit("t:burst", "5/m"), range(100)))
    assert results.count(True) == 5
