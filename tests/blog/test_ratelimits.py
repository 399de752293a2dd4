import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from blog.shared import ratelimits


@pytest.fixture(autouse=True)
def _clear_cache(monkeypatch):
    caches["default"].clear()
    # One fixed window, so a test never straddles a minute's end.
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: 600.0))


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


def test_ipv6_visitors_are_counted_by_their_64_network() -> None:
    # One home line gets a whole /64; a script walks through it freely.
    assert ratelimits.address_key("2001:db8:1:2::1") == ratelimits.address_key("2001:db8:1:2:ffff::9")
    assert ratelimits.address_key("2001:db8:1:3::1") != ratelimits.address_key("2001:db8:1:2::1")
    assert ratelimits.address_key("203.0.113.7") == "203.0.113.7"


def test_a_limit_holds_across_one_ipv6_network(rf) -> None:
    from django.contrib.auth.models import AnonymousUser

    def request(ip: str):
        req = rf.post("/", REMOTE_ADDR=ip)
        req.user = AnonymousUser()
        return req

    assert ratelimits.allow(request("2001:db8::1"), "t", "2/m")
    assert ratelimits.allow(request("2001:db8::2"), "t", "2/m")
    assert not ratelimits.allow(request("2001:db8::3"), "t", "2/m")


def test_a_forwarded_entry_that_is_no_address_is_not_believed(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.1")
    assert ratelimits.client_ip(request) == "10.0.0.1"


def production_start(var_dir, **env: str):
    import subprocess
    import sys

    environment = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "TESTING": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "dispatch.example",
        "VAR_DIR": str(var_dir),
        **env,
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_with_a_per_process_cache(tmp_path) -> None:
    result = production_start(tmp_path)
    assert result.returncode != 0
    assert "CACHE_URL must name a shared cache" in result.stderr
    assert "CACHE_URL must name a shared cache" in production_start(tmp_path, CACHE_URL="locmemcache://").stderr


def test_production_starts_with_a_shared_cache(tmp_path) -> None:
    result = production_start(tmp_path, CACHE_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr


def test_with_limits_switched_off_a_benchmark_may_use_a_local_cache(tmp_path) -> None:
    assert production_start(tmp_path, RATELIMIT_ENABLED="0").returncode == 0
