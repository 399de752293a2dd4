"""The API's published rate limit holds under concurrency on the shared Redis
cache: 40 simultaneous requests against 5 a minute let exactly 5 through."""

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from blog.api import access
from blog.shared import ratelimits

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_forty_simultaneous_requests_against_five_a_minute_let_five_through(
    require_service, settings, monkeypatch
) -> None:
    require_service(
        "Redis", "redis" in django_settings.CACHES["default"]["BACKEND"].lower(), "set CACHE_URL=redis://..."
    )
    clock = SimpleNamespace(time=lambda: 1200.0)  # one window for the whole test
    monkeypatch.setattr(ratelimits, "time", clock)
    monkeypatch.setattr(access, "time", clock)
    settings.API_PUBLIC_RATE = "5/m"

    def ask(_: int) -> int:
        try:
            return Client().get("/api/v1/tags", REMOTE_ADDR="127.0.0.1").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(ask, range(40)))
    assert statuses.count(200) == 5
    assert statuses.count(429) == 35
