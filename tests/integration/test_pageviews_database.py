"""The database path for page views (no Redis) under concurrency, on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from blog.insights import pageviews
from blog.models import DailyVisitor, PageViewDay, ReferrerDay
from tests.blog.test_pageviews import visit
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_hundred_parallel_views_without_redis_count_a_hundred(require_service, settings) -> None:
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    settings.PAGEVIEWS_REDIS_URL = ""
    pageviews.set_client(None)
    post = make_post(make_user("ada"), "Rush hour on SQLite's stand-in")

    def view(n: int) -> int:
        try:
            address = f"203.0.113.{10 + n % 10}"  # ten people
            return visit(Client(), post.get_absolute_url(), address)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(view, range(100))) == {200}

    row = PageViewDay.objects.get(post=post, day=timezone.localdate())
    assert (row.views, row.visitors) == (100, 10)
    assert ReferrerDay.objects.get(post=post).views == 100
    assert DailyVisitor.objects.count() == 10
