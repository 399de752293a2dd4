from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db

LISTINGS = ["/", "/t/politics/", "/@ada/", "/archive/", "/feed/", "/feed/atom/", "/sitemap.xml"]


@pytest.fixture
def posts(ada):
    published = make_post(ada, "Out in the open")
    draft = make_post(ada, "Half written", status=Post.Status.DRAFT)
    scheduled = make_post(
        ada, "Coming next week", status=Post.Status.SCHEDULED, published_at=timezone.now() + timedelta(days=7)
    )
    for post in (published, draft, scheduled):
        post.tags.add("Politics")
    return published, draft, scheduled


def test_drafts_and_scheduled_posts_are_absent_from_every_listing(client, posts) -> None:
    published, draft, scheduled = posts
    for url in LISTINGS:
        page = client.get(url).content.decode()
        assert published.slug in page, url
        assert draft.slug not in page and draft.title not in page, url
        assert scheduled.slug not in page and scheduled.title not in page, url


@pytest.mark.parametrize("who", [None, "rosa", "bo"])
def test_drafts_and_scheduled_posts_are_404_for_everyone_else(client, posts, who, request) -> None:
    if who:
        client.force_login(request.getfixturevalue(who))
    _, draft, scheduled = posts
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(scheduled.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("who", ["ada", "lena"])
def test_author_and_editors_can_open_unpublished_posts(client, posts, who, request) -> None:
    client.force_login(request.getfixturevalue(who))
    _, draft, scheduled = posts
    page = client.get(draft.get_absolute_url())
    assert page.status_code == 200
    assert "This post is <strong>draft</strong>" in page.content.decode()
    assert b'name="robots" content="noindex"' in client.get(scheduled.get_absolute_url()).content


def test_scheduled_post_appears_once_its_time_has_come(client, posts) -> None:
    from blog.tasks import publish_due_posts

    _, _, scheduled = posts
    Post.objects.filter(pk=scheduled.pk).update(published_at=timezone.now() - timedelta(minutes=1))
    publish_due_posts.delay()
    assert client.get(scheduled.get_absolute_url()).status_code == 200
    assert scheduled.title in client.get("/").content.decode()
    titles = [entry.title for entry in feedparser.parse(client.get("/feed/").content).entries]
    assert scheduled.title in titles


def test_a_staff_flag_alone_does_not_open_drafts(client, posts, kit) -> None:
    client.force_login(kit)
    _, draft, _ = posts
    assert client.get(draft.get_absolute_url()).status_code == 404
