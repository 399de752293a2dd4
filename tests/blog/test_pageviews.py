import re
from datetime import date, timedelta

import fakeredis
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from blog.insights import pageviews
from blog.models import PageViewDay, Post, ReferrerDay
from blog.tasks import fold_page_views
from tests.factories import make_post

pytestmark = pytest.mark.django_db

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
BROWSER = {
    "HTTP_USER_AGENT": CHROME,
    "HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8",
    "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9",
}


@pytest.fixture(autouse=True)
def inline(settings) -> None:
    """Each view sent as it happens; test_views_sent_in_the_background covers the thread."""
    settings.PAGEVIEWS_IN_BACKGROUND = False


@pytest.fixture
def redis_server(settings):
    settings.PAGEVIEWS_REDIS_URL = "redis://fake"
    server = fakeredis.FakeRedis()
    pageviews.set_client(server)
    yield server
    pageviews.set_client(None)


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Counted")


IMAGE_ACCEPT = "image/avif,image/webp,image/png,image/*;q=0.8,*/*;q=0.5"
VIEW_BEACON = re.compile(r'data-view-beacon="([^"]+)"')


def visit(client: Client, path: str, ip: str = "203.0.113.5", **headers) -> int:
    """Load a page as a browser does: the page, then the view beacon its script asks
    for, with the page's own referrer; `headers` go with both requests."""
    response = client.get(path, REMOTE_ADDR=ip, **{**BROWSER, **headers})
    found = VIEW_BEACON.search(response.content.decode()) if response.status_code == 200 else None
    if found:
        referrer = headers.pop("HTTP_REFERER", "")
        beacon = {**BROWSER, "HTTP_ACCEPT": IMAGE_ACCEPT, **headers, "HTTP_REFERER": f"http://testserver{path}"}
        client.get(found[1], {"r": referrer} if referrer else {}, REMOTE_ADDR=ip, **beacon)
    return response.status_code


def today_row(post: Post | None) -> PageViewDay:
    return PageViewDay.objects.get(post=post, day=timezone.localdate())


def test_views_and_unique_visitors_are_counted_per_post_and_day(client, redis_server, post) -> None:
    for ip in ["203.0.113.5", "203.0.113.5", "198.51.100.7"]:
        assert visit(client, post.get_absolute_url(), ip) == 200
    fold_page_views.delay()
    row = today_row(post)
    assert (row.views, row.visitors) == (3, 2)


def test_views_sent_in_the_background_arrive_together(client, settings, redis_server, post) -> None:
    settings.PAGEVIEWS_IN_BACKGROUND = True
    for ip in ["203.0.113.5", "203.0.113.5", "198.51.100.7"]:
        visit(client, post.get_absolute_url(), ip, HTTP_REFERER="https://bsky.app/")
    pageviews.flush()
    pageviews.fold()
    assert (today_row(post).views, today_row(post).visitors) == (3, 2)
    assert list(ReferrerDay.objects.values_list("source", "views")) == [("bsky.app", 3)]


def test_the_home_page_is_counted_as_its_own_page(client, redis_server, post) -> None:
    visit(client, "/")
    visit(client, "/?page=1")
    pageviews.fold()
    assert (today_row(None).views, today_row(None).visitors) == (2, 1)
    assert not PageViewDay.objects.filter(post=post).exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
        {"HTTP_USER_AGENT": "facebookexternalhit/1.1"},
        {"HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Discordbot/2.0)"},
        {"HTTP_USER_AGENT": "Slackbot-LinkExpanding 1.0"},
        {"HTTP_USER_AGENT": "Mozilla/5.0 HeadlessChrome/120.0"},
        {"HTTP_USER_AGENT": "Mozilla/5.0 (compatible; AhrefsBot/7.0)"},
        {"HTTP_USER_AGENT": "curl/8.5.0"},
        {"HTTP_ACCEPT_LANGUAGE": ""},
        {"HTTP_ACCEPT": "*/*"},
        {"HTTP_ACCEPT": "text/html"},
        {"HTTP_SEC_PURPOSE": "prefetch"},
    ],
)
def test_bots_previewers_and_headless_requests_are_not_counted(client, redis_server, post, headers) -> None:
    assert visit(client, post.get_absolute_url(), **headers) == 200
    pageviews.fold()
    assert not PageViewDay.objects.exists()


def test_the_author_and_staff_are_not_counted_but_other_authors_are(client, redis_server, post, ada, bo, sam) -> None:
    for user in (ada, sam, bo):
        client.force_login(user)
        visit(client, post.get_absolute_url())
        visit(client, "/")
    pageviews.fold()
    assert today_row(post).views == 1  # bo only
    assert today_row(None).views == 2  # ada and bo: the home page has no author


def test_redirects_404s_and_other_pages_are_not_counted(client, redis_server, post) -> None:
    assert visit(client, "/p/no-such-post/") == 404
    assert visit(client, "/archive/") == 200
    client.post(post.get_absolute_url())
    pageviews.fold()
    assert not PageViewDay.objects.exists()


def test_a_draft_is_not_counted(client, redis_server, ada) -> None:
    draft = make_post(ada, "Draft", status=Post.Status.DRAFT)
    assert visit(client, draft.get_absolute_url()) == 404
    pageviews.fold()
    assert not PageViewDay.objects.exists()


def test_a_redis_outage_loses_the_count_but_serves_the_page(client, settings, post, caplog) -> None:
    settings.PAGEVIEWS_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    pageviews.set_client(None)
    try:
        assert visit(client, post.get_absolute_url()) == 200
        assert visit(client, post.get_absolute_url()) == 200  # paused: no second attempt
        assert pageviews.fold() == 0
    finally:
        pageviews.set_client(None)
    assert "1 page views not counted, Redis failed" in caplog.text
    assert not PageViewDay.objects.exists()


def test_counting_off_counts_nothing(client, settings, redis_server, post) -> None:
    settings.PAGEVIEWS_ENABLED = False
    visit(client, post.get_absolute_url())
    assert redis_server.keys() == []


def test_the_fold_is_idempotent(client, redis_server, post) -> None:
    visit(client, post.get_absolute_url(), HTTP_REFERER="https://news.ycombinator.com/item?id=1")
    pageviews.fold()
    first = list(PageViewDay.objects.values_list("post", "day", "views", "visitors"))
    first_sources = list(ReferrerDay.objects.values_list("post", "day", "source", "views"))
    assert pageviews.fold() == 0  # nothing changed, nothing written
    assert list(PageViewDay.objects.values_list("post", "day", "views", "visitors")) == first
    assert list(ReferrerDay.objects.values_list("post", "day", "source", "views")) == first_sources
    visit(client, post.get_absolute_url())
    pageviews.fold()
    pageviews.fold()
    assert today_row(post).views == 2


def test_the_fold_never_lowers_a_day_after_redis_lost_its_data(client, redis_server, post) -> None:
    for _ in range(3):
        visit(client, post.get_absolute_url())
    pageviews.fold()
    redis_server.flushall()
    visit(client, post.get_absolute_url())
    pageviews.fold()
    assert today_row(post).views == 3


def test_yesterdays_late_views_are_folded_after_midnight(client, redis_server, post) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    redis_server.hincrby(pageviews.views_key(yesterday), f"post:{post.slug}", 5)
    pageviews.fold()
    assert PageViewDay.objects.get(post=post, day=yesterday).views == 5


def test_views_under_an_old_slug_arrive_at_the_renamed_post(client, redis_server, post) -> None:
    visit(client, post.get_absolute_url())
    post.set_slug("renamed")
    post.save()
    pageviews.fold()
    assert today_row(post).views == 1


@pytest.mark.parametrize(
    ("query", "referer", "source"),
    [
        ("", "", "direct"),
        ("", "https://www.Google.com/search?q=harbour+bill", "google.com"),
        ("", "https://news.ycombinator.com:443/item?id=1", "news.ycombinator.com"),
        ("", "http://testserver/p/other/", "site"),
        ("", "http://127.0.0.1:8000/", "site"),
        ("", "https://mail.google.com/mail/u/0/", "email"),
        ("?utm_source=newsletter", "", "email"),
        ("?utm_medium=email&utm_source=", "", "email"),
        ("?utm_source=Mastodon", "https://mastodon.social/@x", "utm:mastodon"),
    ],
)
def test_referrers_are_reduced_to_a_host_or_a_source(client, redis_server, post, query, referer, source) -> None:
    visit(client, post.get_absolute_url() + query, HTTP_REFERER=referer)
    pageviews.fold()
    assert list(ReferrerDay.objects.values_list("source", "views")) == [(source, 1)]


def test_the_visitor_hash_changes_every_day_and_between_pages(rf) -> None:
    request = rf.get("/", REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT=CHROME)
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    assert pageviews.daily_salt(monday) != pageviews.daily_salt(tuesday)
    assert pageviews.visitor_hash(request, "post:a", monday) == pageviews.visitor_hash(request, "post:a", monday)
    assert pageviews.visitor_hash(request, "post:a", monday) != pageviews.visitor_hash(request, "post:a", tuesday)
    assert pageviews.visitor_hash(request, "post:a", monday) != pageviews.visitor_hash(request, "post:b", monday)


def test_no_address_or_hash_is_stored_anywhere(client, rf, redis_server, post) -> None:
    ip = "203.0.113.77"
    visit(client, post.get_absolute_url(), ip, HTTP_REFERER="https://example.net/")
    pageviews.fold()
    request = rf.get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=CHROME)
    today = timezone.localdate()
    secrets = [ip, CHROME, pageviews.daily_salt(today), pageviews.visitor_hash(request, f"post:{post.slug}", today)]
    dump = _database_dump()
    assert PageViewDay.objects.exists()
    assert not [secret for secret in secrets if secret in dump]
    in_redis = b"".join(key + b"".join(_values(redis_server, key)) for key in redis_server.scan_iter())
    assert not [secret for secret in secrets if secret.encode() in in_redis]


def _values(server, key: bytes) -> list[bytes]:
    kind = server.type(key)
    if kind == b"hash":
        return [k + v for k, v in server.hgetall(key).items()]
    if kind == b"string":
        return [server.get(key)]
    return []


def _database_dump() -> str:
    """Every value in every table, as text."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            out.extend(str(row) for row in cursor.fetchall())
    return "\n".join(out)


def test_pages_served_from_the_page_cache_are_counted(client, redis_server, post) -> None:
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "miss"
    for path in [post.get_absolute_url()] * 3 + ["/"] * 2:
        visit(client, path)
    pageviews.fold()
    assert (today_row(post).views, today_row(post).visitors) == (3, 1)
    assert today_row(None).views == 2


def test_without_script_the_image_counts_the_view_and_the_campaign_tag(client, redis_server, post) -> None:
    page = client.get(post.get_absolute_url() + "?utm_source=Mastodon").content.decode()
    image = re.search(r'<noscript><img src="([^"]+)"', page)[1]
    referer = f"http://testserver{post.get_absolute_url()}?utm_source=Mastodon"
    response = client.get(image, REMOTE_ADDR="203.0.113.5", **{**BROWSER, "HTTP_ACCEPT": IMAGE_ACCEPT},
                          HTTP_REFERER=referer)  # fmt: skip
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store" and not response.cookies
    pageviews.fold()
    assert today_row(post).views == 1
    assert list(ReferrerDay.objects.values_list("source", "views")) == [("utm:mastodon", 1)]


def test_the_beacon_of_an_unknown_or_unpublished_post_counts_nothing(client, redis_server, ada) -> None:
    draft = make_post(ada, "Draft", status=Post.Status.DRAFT)
    for slug in ("no-such-post", draft.slug):
        response = client.get(
            f"/p/{slug}/seen.gif", REMOTE_ADDR="203.0.113.5", **{**BROWSER, "HTTP_ACCEPT": IMAGE_ACCEPT}
        )
        assert response.status_code == 200
    assert redis_server.keys() == []


def test_the_beacon_refuses_a_post(client, redis_server, post) -> None:
    assert client.post(f"/p/{post.slug}/seen.gif").status_code == 405
    assert redis_server.keys() == []
