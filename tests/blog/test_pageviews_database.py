"""Page views on the embedded default (no Redis): counted in the database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blog.insights import pageviews
from blog.models import DailyVisitor, PageViewDay, ReferrerDay
from tests.blog.test_pageviews import CHROME, _database_dump, today_row, visit
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_redis(settings) -> None:
    settings.PAGEVIEWS_REDIS_URL = ""
    settings.PAGEVIEWS_ENABLED = True
    pageviews.set_client(None)


@pytest.fixture
def post(ada):
    return make_post(ada, "Counted")


def test_views_and_unique_visitors_are_counted_without_redis(client, post) -> None:
    for ip in ["203.0.113.5", "203.0.113.5", "198.51.100.7"]:
        assert visit(client, post.get_absolute_url(), ip, HTTP_REFERER="https://bsky.app/") == 200
    visit(client, "/")
    row = today_row(post)
    assert (row.views, row.visitors) == (3, 2)
    assert (today_row(None).views, today_row(None).visitors) == (1, 1)
    assert list(ReferrerDay.objects.filter(post=post).values_list("source", "views")) == [("bsky.app", 3)]


def test_rotating_the_user_agent_from_one_address_is_one_visitor(client, post) -> None:
    for n in range(25):
        agent = CHROME.replace("Chrome/131.0", f"Chrome/{100 + n}.0")
        visit(client, post.get_absolute_url(), "203.0.113.9", HTTP_USER_AGENT=agent)
    assert (today_row(post).views, today_row(post).visitors) == (25, 1)


def test_bots_the_author_and_counting_off_are_not_counted(client, settings, post, ada) -> None:
    visit(client, post.get_absolute_url(), HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    client.force_login(ada)
    visit(client, post.get_absolute_url())
    client.logout()
    settings.PAGEVIEWS_ENABLED = False
    visit(client, post.get_absolute_url())
    assert not PageViewDay.objects.exists()


def test_no_address_is_stored_and_visitor_hashes_go_after_a_day(client, rf, post) -> None:
    ip = "203.0.113.77"
    visit(client, post.get_absolute_url(), ip)
    dump = _database_dump()
    assert ip not in dump and CHROME not in dump
    old = timezone.localdate() - timedelta(days=3)
    DailyVisitor.objects.create(day=old, page=f"post:{post.slug}", visitor="0" * 32)
    pageviews.fold()  # the beat task; it also runs once a day from the counting itself
    assert not DailyVisitor.objects.filter(day=old).exists()
    assert DailyVisitor.objects.filter(day=timezone.localdate()).count() == 1


def test_the_counting_mode_is_named(settings) -> None:
    assert pageviews.counting() == "database"
    settings.PAGEVIEWS_REDIS_URL = "redis://127.0.0.1:6379/1"
    assert pageviews.counting() == "redis"
    settings.PAGEVIEWS_ENABLED = False
    assert pageviews.counting() == ""


def test_with_redis_too_rotating_the_user_agent_is_one_visitor(client, settings, post) -> None:
    import fakeredis

    settings.PAGEVIEWS_REDIS_URL = "redis://fake"
    settings.PAGEVIEWS_IN_BACKGROUND = False
    pageviews.set_client(fakeredis.FakeRedis())
    try:
        for n in range(25):
            agent = CHROME.replace("Chrome/131.0", f"Chrome/{100 + n}.0")
            visit(client, post.get_absolute_url(), "203.0.113.9", HTTP_USER_AGENT=agent)
        pageviews.fold()
    finally:
        pageviews.set_client(None)
    assert (today_row(post).views, today_row(post).visitors) == (25, 1)
