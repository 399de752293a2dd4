"""Signed-in readers of a post share one rendering of the page around them
(blog/pagecache/, filled_shell); what is theirs is filled in per request and
never reaches another reader."""

import re

import pytest
from django.test import Client

from accounts.models import User
from blog.models import Comment, CommentLike, Like, Post
from tests.factories import comment_as, make_post, make_user, relax_moderation

pytestmark = pytest.mark.django_db
PATH = "/p/argue-here/"


@pytest.fixture(autouse=True)
def _rules():
    relax_moderation(comments_per_minute=100)


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Argue here", body="The *harbour* question.", slug="argue-here")


@pytest.fixture
def zed(db) -> User:
    return make_user("zed")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def like_button(html: str) -> str:
    return re.search(r'<button type="submit" class="like-button[^>]*>', html)[0]


def test_readers_in_the_same_state_share_the_page_each_with_their_own_values(post, rosa, zed) -> None:
    yan = make_user("yan")
    theirs = comment_as(zed, post, "Another point")
    assert signed_in(zed).get(PATH)["X-Page-Cache"] == "miss"
    response = signed_in(yan).get(PATH)
    html = response.content.decode()
    assert response["X-Page-Cache"] == "hit"
    assert ">@yan</a>" in html and ">@zed</a>" not in html
    assert f"ref={yan.get_referral_code()}" in html and f"ref={zed.get_referral_code()}" not in html
    assert "Subscribe as yan@example.com" in html and "zed@example.com" not in html
    assert f'href="/comments/{theirs.pk}/edit/"' not in html and f'href="/comments/{theirs.pk}/flag/">Flag</a>' in html


def test_what_a_reader_did_shows_on_their_page(post, rosa, zed) -> None:
    mine = comment_as(rosa, post, "My own point")
    theirs = comment_as(zed, post, "Another point")
    signed_in(zed).get(PATH)
    Like.objects.create(post=post, user=rosa)
    CommentLike.objects.create(comment=theirs, user=rosa)
    html = signed_in(rosa).get(PATH).content.decode()
    assert ">@rosa</a>" in html and ">@zed</a>" not in html
    assert 'aria-pressed="true"' in like_button(html)
    assert f'href="/comments/{mine.pk}/edit/">Edit</a>' in html
    assert f'formaction="/comments/{theirs.pk}/like/" class="link is-liked" aria-pressed="true"' in html

    html = signed_in(zed).get(PATH).content.decode()
    assert 'aria-pressed="false"' in like_button(html)
    assert f'href="/comments/{mine.pk}/edit/"' not in html and f'href="/comments/{theirs.pk}/edit/">Edit</a>' in html
    assert 'class="link is-liked"' not in html


def test_no_two_responses_share_a_token_and_the_token_works(post, rosa, zed) -> None:
    pages = [signed_in(user).get(PATH) for user in (rosa, zed, rosa)]
    tokens = [set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', p.content.decode())) for p in pages]
    assert all("nonce" not in p.content.decode() for p in pages)
    assert all(len(found) == 1 for found in tokens) and len(set.union(*tokens)) == 3
    assert all("\x00" not in p.content.decode() for p in pages)

    zed_client = Client(enforce_csrf_checks=True)
    zed_client.force_login(zed)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', zed_client.get(PATH).content.decode())[1]
    assert zed_client.post(f"{PATH}like/", {"position": "top", "csrfmiddlewaretoken": token}).status_code == 302
    assert Like.objects.filter(post=post, user=zed).exists()


def test_a_held_comment_shows_to_its_writer_only(post, rosa, zed) -> None:
    signed_in(zed).get(PATH)
    held = Comment.objects.create(post=post, author=rosa, body="x", body_html="<p>Wait for me</p>", status="held")
    assert "Wait for me" in signed_in(rosa).get(PATH).content.decode()
    assert "Wait for me" not in signed_in(zed).get(PATH).content.decode()
    assert f'id="comment-{held.pk}"' not in signed_in(zed).get(PATH).content.decode()


def test_a_new_comment_shows_on_the_next_load(post, rosa, zed, django_capture_on_commit_callbacks) -> None:
    zed_client = signed_in(zed)
    zed_client.get(PATH)
    with django_capture_on_commit_callbacks(execute=True):
        comment_as(rosa, post, "Fresh reply")
    assert "Fresh reply" in zed_client.get(PATH).content.decode()


def test_the_author_editors_and_moderators_get_their_page_live(post, ada, lena, milo, rosa) -> None:
    comment_as(rosa, post, "A point")
    signed_in(rosa).get(PATH)
    for user, sign in ((ada, "Edit</a>"), (lena, "Edit</a>"), (milo, "Moderate")):
        response = signed_in(user).get(PATH)
        assert "X-Page-Cache" not in response
        assert sign in response.content.decode(), user


def test_a_reader_with_a_message_gets_it(post, zed) -> None:
    mine = comment_as(zed, post, "Said too soon")
    client = signed_in(zed)
    client.get(PATH)
    response = client.post(f"/comments/{mine.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0].startswith(PATH)
    assert "Your comment is deleted." in response.content.decode()
    assert "Your comment is deleted." not in client.get(PATH).content.decode()


def test_a_moderator_who_loses_the_role_gets_the_readers_page_at_once(post, milo, rosa) -> None:
    comment_as(rosa, post, "A point")
    client = signed_in(milo)
    assert "Moderate<span" in client.get(PATH).content.decode()
    milo.groups.clear()
    response = client.get(PATH)
    assert response["X-Page-Cache"] in {"hit", "miss"}
    assert "Moderate<span" not in response.content.decode()


def test_an_edit_and_another_readers_like_show_on_the_next_load(
    post, rosa, zed, django_capture_on_commit_callbacks
) -> None:
    client = signed_in(zed)
    client.get(PATH)
    with django_capture_on_commit_callbacks(execute=True):
        post.title = "Argue elsewhere"
        post.save()
    signed_in(rosa).post(f"{PATH}like/", {"position": "top"})
    html = client.get(PATH).content.decode()
    assert "Argue elsewhere" in html
    assert "data-like-count>1<" in html
