from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Like, Post
from blog.shared import sitesettings
from tests.factories import grant, make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Worth a like")


def count(post: Post) -> int:
    return Post.objects.get(pk=post.pk).like_count


def test_like_and_unlike_without_javascript_return_to_the_same_bar(client, rosa, post) -> None:
    client.force_login(rosa)
    response = client.post(f"/p/{post.slug}/like/", {"position": "bottom"})
    assert response.status_code == 302 and response.url == f"/p/{post.slug}/#engagement-bottom"
    assert count(post) == 1 and Like.objects.filter(post=post, user=rosa).exists()
    page = client.get(post.get_absolute_url()).content.decode()
    assert page.count('aria-pressed="true"') == 2  # the top and the bottom bar agree
    client.post(f"/p/{post.slug}/like/", {"position": "top"})
    assert count(post) == 0 and not Like.objects.exists()


def test_like_with_javascript_answers_state_and_count(client, rosa, bo, post) -> None:
    client.force_login(bo)
    client.post(f"/p/{post.slug}/like/", {"liked": "1"})
    client.force_login(rosa)
    response = client.post(f"/p/{post.slug}/like/", {"liked": "1"}, headers={"Accept": "application/json"})
    assert response.json() == {"liked": True, "count": 2}


def test_a_double_click_makes_one_like(client, rosa, post) -> None:
    client.force_login(rosa)
    for _ in range(2):  # both requests carry the state the page showed: "make it liked"
        client.post(f"/p/{post.slug}/like/", {"liked": "1"})
    assert count(post) == 1 == Like.objects.count()


def test_unliking_what_was_never_liked_changes_nothing(client, rosa, post) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/like/", {"liked": "0"})
    assert count(post) == 0


def test_like_refuses_get(client, rosa, post) -> None:
    client.force_login(rosa)
    assert client.get(f"/p/{post.slug}/like/").status_code == 405
    assert count(post) == 0


def test_visitor_is_sent_to_sign_in_and_the_like_is_applied_after(client, rosa, post) -> None:
    response = client.post(f"/p/{post.slug}/like/", {"position": "top"})
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next=%2Fp%2F{post.slug}%2F%23engagement-top"
    assert count(post) == 0
    login = client.post(
        f"/accounts/login/?next=/p/{post.slug}/", {"login": "rosa@example.com", "password": "a-long-pass-phrase"}
    )
    assert login.status_code == 302 and login.url == f"/p/{post.slug}/"
    assert count(post) == 1 and Like.objects.filter(user=rosa).exists()


def test_visitor_with_javascript_gets_the_sign_in_address(client, post) -> None:
    response = client.post(f"/p/{post.slug}/like/", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json()["login"].startswith("/accounts/login/?next=")


def test_drafts_cannot_be_liked_by_others(client, rosa, ada) -> None:
    draft = make_post(ada, "Not yet", status=Post.Status.DRAFT)
    client.force_login(rosa)
    assert client.post(f"/p/{draft.slug}/like/").status_code == 404
    assert not Like.objects.exists()


def test_scheduled_posts_cannot_be_liked_by_others(client, rosa, ada) -> None:
    later = make_post(ada, "Tomorrow", status=Post.Status.SCHEDULED)
    Post.objects.filter(pk=later.pk).update(published_at=timezone.now() + timedelta(days=1))
    client.force_login(rosa)
    assert client.post(f"/p/{later.slug}/like/").status_code == 404
    assert not Like.objects.exists()


def test_an_author_and_an_editor_may_like_a_draft_they_can_see(client, ada, rosa) -> None:
    draft = make_post(ada, "Not yet", status=Post.Status.DRAFT)
    client.force_login(ada)
    assert client.post(f"/p/{draft.slug}/like/", {"liked": "1"}, headers={"Accept": "application/json"}).json() == {
        "liked": True, "count": 1,
    }  # fmt: skip
    client.force_login(grant(rosa, "blog.change_any_post"))
    assert client.post(f"/p/{draft.slug}/like/", {"liked": "1"}).status_code == 302
    assert count(draft) == 2


def test_liking_is_rate_limited_with_a_readable_message(client, rosa, post) -> None:
    client.force_login(rosa)
    statuses = [client.post(f"/p/{post.slug}/like/").status_code for _ in range(31)]
    assert statuses[:30] == [302] * 30
    assert statuses[30] == 429
    response = client.post(f"/p/{post.slug}/like/")
    assert "liking very fast. Please wait a minute" in response.content.decode()


def test_saving_an_edited_post_keeps_the_like_count(client, ada, rosa, post) -> None:
    stale = Post.objects.get(pk=post.pk)
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/like/", {"liked": "1"})
    stale.title = "Edited while readers liked it"
    stale.save()
    assert count(post) == 1


def test_readers_see_their_likes_on_their_profile_and_no_one_else_does(client, rosa, bo, post) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/like/", {"liked": "1"})
    assert "Worth a like" in client.get("/@rosa/").content.decode()
    client.force_login(bo)
    assert "Posts you liked" not in client.get("/@rosa/").content.decode()


def test_authors_see_like_counts_on_their_desk(client, ada, rosa, post) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/like/", {"liked": "1"})
    client.force_login(ada)
    page = client.get("/write/").content.decode()
    assert '<td class="num">1</td>' in page


@pytest.mark.parametrize("liked", ["", "1"])
def test_the_queries_of_a_like_and_an_unlike_are_pinned(client, rosa, post, liked, monkeypatch) -> None:
    """The session and the user (the cache is emptied first, so both are read from
    the database), then on PostgreSQL the like in one statement, the post and the
    reader's bans included (tests/integration pins it); elsewhere, through the ORM,
    the post with this reader's like and bans, the like, the counter and the count. The test's own transaction
    turns the like's into savepoints, not counted. Last, for a like, with the cache
    emptied, which events webhooks listen to (blog/integrations/webhooks.py keeps that in the cache
    for five minutes, so a warm like asks nothing)."""
    client.force_login(rosa)
    monkeypatch.setattr(sitesettings, "LOCAL_SECONDS", 3600)  # the site settings are each process's own copy
    sitesettings.current()
    for expected in (1, 0):
        cache.clear()  # nor are the reader's roles cached: a like of a published post asks none
        data = {"position": "top", "liked": str(expected)} if liked else {"position": "top"}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/p/{post.slug}/like/", data, headers={"Accept": "application/json"})
        assert response.json() == {"liked": bool(expected), "count": expected}
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
        listened = expected  # a like asks whether a webhook listens (post.liked); an unlike sends no event
        assert len(statements) == (3 if connection.vendor == "postgresql" else 6) + listened, statements
        assert ("blog_webhook" in statements[-1]) == bool(listened)
        assert "django_session" in statements[0]
