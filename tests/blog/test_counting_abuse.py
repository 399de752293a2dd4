"""Cheap inflation of shares and referrer spam (issue 22, item 11). Clicks on
newsletter links are in test_click_redirects.py; page-view uniqueness is in
test_pageviews.py."""

import pytest

from blog.models import Post, Share
from blog.tasks import fold_page_views
from tests.blog.test_pageviews import redis_server, visit  # noqa: F401  (a fixture, and the visit it counts)
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline(settings) -> None:
    settings.PAGEVIEWS_IN_BACKGROUND = False


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Pass it on")


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_REFERER": "https://spam.example/page"},
        {},
    ],
    ids=["cross-site", "sibling-subdomain", "foreign-referer", "no-headers"],
)
def test_a_share_link_fetched_from_another_site_is_followed_but_not_counted(client, post, headers) -> None:
    for n in range(5):
        response = client.get(f"/p/{post.slug}/share/x/", REMOTE_ADDR=f"198.51.100.{n}", **headers)
        assert response.status_code == 302 and response.url.startswith("https://x.com/intent/post")
    assert not Share.objects.exists() and Post.objects.get(pk=post.pk).share_count == 0


def test_a_share_from_the_posts_own_page_counts_once_a_day(client, post) -> None:
    for _ in range(3):
        client.get(f"/p/{post.slug}/share/x/", HTTP_SEC_FETCH_SITE="same-origin")
    client.get(f"/p/{post.slug}/share/reddit/", HTTP_REFERER=f"http://testserver/p/{post.slug}/")
    assert sorted(Share.objects.values_list("network", flat=True)) == ["reddit", "x"]
    assert Post.objects.get(pk=post.pk).share_count == 2


def test_made_up_utm_sources_do_not_each_become_a_row_in_insights(client, redis_server, ada, post) -> None:  # noqa: F811
    for n in range(40):
        visit(client, f"{post.get_absolute_url()}?utm_source=spam-{n}", ip=f"198.51.100.{n}")
    for n in range(6):
        visit(client, f"{post.get_absolute_url()}?utm_source=Mastodon", ip=f"203.0.113.{n}")
    visit(client, f"{post.get_absolute_url()}?utm_source=%3Cb%3Ebuy%20now%3C/b%3E", ip="203.0.113.99")
    fold_page_views.delay()
    client.force_login(ada)
    rows = client.get(f"/write/{post.pk}/insights/?csv=referrers").content.decode().splitlines()
    assert rows[1:] == ["Other tagged links,41", "mastodon (utm_source),6"]
    overview = client.get("/write/insights/?csv=referrers").content.decode().splitlines()
    assert overview[1:] == ["Other tagged links,41", "mastodon (utm_source),6"]
