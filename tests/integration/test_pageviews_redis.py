import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from blog.insights import pageviews
from blog.models import PageViewDay, ReferrerDay
from tests.blog.test_pageviews import BROWSER, _database_dump, visit
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_redis(require_service, settings):
    url = os.environ.get("CACHE_URL", "")
    require_service("Redis", url.startswith("redis://"), "set CACHE_URL=redis://127.0.0.1:6379/<db>")
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    settings.PAGEVIEWS_REDIS_URL = url
    settings.PAGEVIEWS_IN_BACKGROUND = True
    pageviews.set_client(None)
    server = redis.Redis.from_url(url)
    server.flushdb()
    yield server
    server.flushdb()
    pageviews.set_client(None)


def test_a_hundred_parallel_views_count_a_hundred(real_redis) -> None:
    post = make_post(make_user("ada"), "Rush hour")
    addresses = [f"203.0.113.{10 + n % 10}" for n in range(100)]  # ten people (an agent is not a person)

    def view(n: int) -> int:
        try:
            agent = BROWSER["HTTP_USER_AGENT"] + f" build/{n}"
            return visit(Client(), post.get_absolute_url(), addresses[n], HTTP_USER_AGENT=agent)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=50) as pool:
        assert set(pool.map(view, range(100))) == {200}

    pageviews.flush()  # what the background thread still holds
    pageviews.fold()
    pageviews.fold()  # twice: still a hundred
    row = PageViewDay.objects.get(post=post, day=timezone.localdate())
    assert (row.views, row.visitors) == (100, 10)
    assert ReferrerDay.objects.get(post=post).views == 100
    secrets = ["203.0.113.11", BROWSER["HTTP_USER_AGENT"]]
    assert not [secret for secret in secrets if secret in _database_dump()]
    stored = b"".join(key + (real_redis.dump(key) or b"") for key in real_redis.scan_iter())
    assert b"203.0.113.11" not in stored and b"build/1" not in stored
