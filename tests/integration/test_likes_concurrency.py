from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blog.models import Like, Post
from blog.shared import sitesettings
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_fifty_threads_toggling_likes_keep_the_count_equal_to_the_rows(require_service, settings) -> None:
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # no rate limit here
    post = make_post(make_user("ada"), "Contested")
    readers = [make_user(f"reader{i}") for i in range(25)]

    def toggle_many(n: int) -> list[int]:
        client = Client()
        client.force_login(readers[n % 25])  # two threads per reader, racing each other
        try:
            return [client.post(f"/p/{post.slug}/like/").status_code for _ in range(8)]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = [status for result in pool.map(toggle_many, range(50)) for status in result]

    assert set(statuses) == {302}
    rows = Like.objects.filter(post=post).count()
    assert Post.objects.get(pk=post.pk).like_count == rows
    assert Like.objects.values("user").distinct().count() == rows  # never two likes from one reader


def test_a_like_is_one_statement_with_the_post_and_ban_check(require_service, monkeypatch) -> None:
    """With the cache emptied first, the session and the user are read from the
    database too; then the like is one statement: the post, this reader's like
    and bans, the write and the count (blog/discussion/engagement.py). With them cached, only it."""
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    post = make_post(make_user("ada"), "Counted")
    client = Client()
    client.force_login(make_user("rosa"))
    monkeypatch.setattr(sitesettings, "LOCAL_SECONDS", 3600)  # the site settings are each process's own copy
    sitesettings.current()
    for expected in (1, 0, 1):
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/p/{post.slug}/like/", headers={"Accept": "application/json"})
        assert response.json() == {"liked": bool(expected), "count": expected}
        statements = [q["sql"] for q in queries]
        # A like also asks, with the cache emptied, whether a webhook listens to likes (blog/integrations/webhooks.py).
        assert len(statements) == 3 + expected and "django_session" in statements[0], statements
        assert 'INSERT INTO "blog_like"' in statements[2] and "blog_ban" in statements[2]
    with CaptureQueriesContext(connection) as queries:
        assert client.post(f"/p/{post.slug}/like/", headers={"Accept": "application/json"}).json()["count"] == 0
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert Post.objects.get(pk=post.pk).like_count == Like.objects.filter(post=post).count() == 0
