"""Signed-out pages come from one shared rendering; nothing personal is shared;
every change a reader would notice shows on the next load."""

import re
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog import pagecache
from blog.discussion import comments, moderation
from blog.models import Comment, Post, ReferralVisit
from blog.posts import publishing
from blog.shared import sitesettings
from tests.factories import make_post, relax_moderation

pytestmark = pytest.mark.django_db

PAGES = ["/p/argue-here/", "/", "/t/ports/", "/@ada/", "/archive/"]


@pytest.fixture(autouse=True)
def _rules():
    relax_moderation(comments_per_minute=100)


@pytest.fixture
def post(ada) -> Post:
    post = make_post(ada, "Argue here", body="The *harbour* question.")
    post.tags.add("Ports")
    return post


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what a change does at commit (tests run inside one transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def tokens_in(response) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()))


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_readers_share_one_rendering_and_it_costs_no_query(
    client, post, path, django_assert_num_queries
) -> None:
    assert client.get(path)["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        again = Client().get(path)
    assert again.status_code == 200 and again["X-Page-Cache"] == "hit"
    assert "Argue here" in again.content.decode()
    assert "Cookie" in again["Vary"]


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_reader_never_gets_the_shared_rendering(client, rosa, post, path) -> None:
    Client().get(path)
    client.force_login(rosa)
    html = client.get(path).content.decode()
    assert ">@rosa</a>" in html and ">Sign in</a>" not in html


def test_a_like_from_a_cached_page_survives_sign_in(post, rosa) -> None:
    Client().get("/p/argue-here/")
    visitor = Client(enforce_csrf_checks=True)
    assert visitor.get("/p/argue-here/")["X-Page-Cache"] == "hit"
    response = visitor.post("/p/argue-here/like/", {"position": "top"}, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    token = tokens_in(visitor.get(response.url)).pop()
    login = {"login": "rosa@example.com", "password": "a-long-pass-phrase", "csrfmiddlewaretoken": token}
    visitor.post("/accounts/login/?next=/p/argue-here/", login)
    assert Post.objects.get(pk=post.pk).like_count == 1
    assert "X-Page-Cache" not in visitor.get("/p/argue-here/")


def test_a_visitor_with_a_session_is_served_live(client, post, rosa) -> None:
    Client().get("/p/argue-here/")
    client.post("/p/argue-here/like/", {"position": "top"})  # a pending like lives in their session
    assert "X-Page-Cache" not in client.get("/p/argue-here/")


def test_drafts_and_scheduled_posts_are_never_stored(client, ada) -> None:
    make_post(ada, "Secret draft", status=Post.Status.DRAFT, slug="draft")
    later = timezone.now() + timedelta(days=1)
    make_post(ada, "Coming soon", status=Post.Status.SCHEDULED, published_at=later, slug="soon")
    for path in ["/p/draft/", "/p/soon/"]:
        assert client.get(path).status_code == 404
        assert client.get(path).status_code == 404
    for path in ["/", "/archive/", "/@ada/"]:
        client.get(path)
        html = client.get(path).content.decode()
        assert "Secret draft" not in html and "Coming soon" not in html


def test_a_held_comment_never_appears_in_the_shared_rendering(client, post, rosa, bo) -> None:
    Comment.objects.create(post=post, author=rosa, body="held", body_html="<p>Held for review</p>", status="held")
    Comment.objects.create(post=post, author=bo, body="ok", body_html="<p>Approved words</p>", status="approved")
    client.get("/p/argue-here/")
    html = client.get("/p/argue-here/").content.decode()
    assert "Approved words" in html and "Held for review" not in html


def test_a_referral_visit_is_never_served_from_the_cache_and_is_recorded(client, post, rosa) -> None:
    Client().get("/p/argue-here/")
    response = client.get(f"/p/argue-here/?ref={rosa.get_referral_code()}")
    assert "X-Page-Cache" not in response
    assert ReferralVisit.objects.filter(referrer=rosa).count() == 1


def test_unknown_query_parameters_are_rendered_live_and_campaign_tags_shared(client, post) -> None:
    client.get("/?fbclid=x")
    assert "X-Page-Cache" not in client.get("/?fbclid=x")
    assert client.get("/?page=1")["X-Page-Cache"] == "miss"
    client.get("/p/argue-here/?utm_source=newsletter")
    assert client.get("/p/argue-here/?utm_source=newsletter")["X-Page-Cache"] == "hit"


# --- Each change shows on the next signed-out load ------------------------------


def loads(path: str) -> str:
    response = Client().get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_an_edit_shows_at_once(post, commit) -> None:
    for path in PAGES:
        loads(path)
    with commit():
        post.title = "Argue there"
        post.save()
    for path in PAGES:
        assert "Argue there" in loads(path), path


def test_publishing_and_unpublishing_show_at_once(ada, commit) -> None:
    draft = make_post(ada, "Fresh news", status=Post.Status.DRAFT, slug="fresh")
    assert "Fresh news" not in loads("/")
    with commit():
        publishing.publish_post(draft)
    assert "Fresh news" in loads("/") and "Fresh news" in loads("/p/fresh/")
    with commit():
        publishing.unpublish_post(draft)
    assert "Fresh news" not in loads("/")
    assert Client().get("/p/fresh/").status_code == 404


def test_comment_approval_edit_and_removal_show_at_once(post, rosa, sam, commit) -> None:
    comment = Comment.objects.create(post=post, author=rosa, body="x", body_html="<p>First take</p>", status="held")
    assert "First take" not in loads("/p/argue-here/")
    with commit():
        moderation.approve_comment(sam, comment)
    assert "First take" in loads("/p/argue-here/")
    assert "1 comment" in loads("/p/argue-here/")
    with commit():
        comments.edit_comment(comment, rosa, "Second take")
    assert "Second take" in loads("/p/argue-here/")
    with commit():
        moderation.delete_comment(sam, comment)
    assert "Second take" not in loads("/p/argue-here/")


def test_a_rename_shows_at_once(post, ada, commit) -> None:
    for path in PAGES:
        loads(path)
    client = Client()
    client.force_login(ada)
    with commit():
        client.post("/settings/profile/", {"display_name": "Ada Renamed", "bio": ""})
    for path in PAGES:
        assert "Ada Renamed" in loads(path), path


def test_a_new_slug_redirects_at_once(post, commit) -> None:
    loads("/p/argue-here/")
    with commit():
        post.set_slug("argue-elsewhere")
        post.save()
    response = Client().get("/p/argue-here/")
    assert response.status_code == 301 and response.url == "/p/argue-elsewhere/"


def test_a_new_restack_shows_at_once(client, post, rosa, commit) -> None:
    loads("/p/argue-here/")
    loads("/@rosa/")
    client.force_login(rosa)
    with commit():
        client.post("/p/argue-here/restack/", {"note": "Worth a read"})
    assert "Worth a read" in loads("/p/argue-here/")  # the re-stacks listed under the post, with notes
    assert "Worth a read" in loads("/@rosa/")


def test_a_signed_out_reader_who_shares_sees_the_count_at_once(client, post) -> None:
    loads("/p/argue-here/")
    client.get("/p/argue-here/share/x/", HTTP_SEC_FETCH_SITE="same-origin")
    response = client.get("/p/argue-here/")
    assert "X-Page-Cache" not in response
    assert 'Share <span class="muted">· 1</span>' in response.content.decode()


def test_a_reader_who_likes_sees_it_at_once_while_others_may_lag(client, post, rosa, commit) -> None:
    loads("/p/argue-here/")
    client.force_login(rosa)
    with commit():
        client.post("/p/argue-here/like/", {"position": "top"})
    assert "data-like-count>1<" in client.get("/p/argue-here/").content.decode()


@pytest.mark.parametrize(
    ("path", "signed_out_first_load", "signed_in"),
    [("/p/argue-here/", 5, 1), ("/", 3, 4), ("/t/ports/", 4, 4), ("/@ada/", 5, 6), ("/archive/", 1, 1)],
)
def test_query_counts_of_every_shared_page_are_pinned(post, rosa, path, signed_out_first_load, signed_in) -> None:
    """Signed out: what a rendering costs (then nothing, see above); signed in: every load."""
    sitesettings.current()  # read once and then kept in the cache, like in a running site
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(path)["X-Page-Cache"] == "miss"
    assert len(queries) == signed_out_first_load
    reader = Client()
    reader.force_login(rosa)
    reader.get(path)  # a first post page gives the reader a referral code, a change to their row
    reader.get(path)  # which this load reads back, once
    with CaptureQueriesContext(connection) as queries:
        reader.get(path)
    assert len(queries) == signed_in


class Clock:
    """pagecache's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)


def test_a_rendering_is_renewed_before_its_lag_runs_out_and_counters_catch_up(post, monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(pagecache, "time", clock)
    assert Client().get("/p/argue-here/")["X-Page-Cache"] == "miss"
    Post.objects.filter(pk=post.pk).update(like_count=7)  # a counter moves without a new version
    clock.now += pagecache.COUNTER_LAG - pagecache.REFRESH_AHEAD - 1
    lagging = Client().get("/p/argue-here/")
    assert lagging["X-Page-Cache"] == "hit" and "data-like-count>7<" not in lagging.content.decode()
    clock.now += 2  # near the end of the lag: the next request renders the next copy
    renewed = Client().get("/p/argue-here/")
    assert renewed["X-Page-Cache"] == "miss" and "data-like-count>7<" in renewed.content.decode()
    clock.now += pagecache.REFRESH_AHEAD  # past the first copy's end: the new one serves
    after = Client().get("/p/argue-here/")
    assert after["X-Page-Cache"] == "hit" and "data-like-count>7<" in after.content.decode()


def test_while_one_process_renews_a_rendering_the_others_serve_the_current_one(post, monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(pagecache, "time", clock)
    Client().get("/archive/")
    clock.now += pagecache.COUNTER_LAG - pagecache.REFRESH_AHEAD + 1
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)  # another process holds every lock
    served = Client().get("/archive/")
    assert served["X-Page-Cache"] == "hit" and "Argue here" in served.content.decode()
