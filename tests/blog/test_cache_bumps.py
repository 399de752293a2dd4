"""A reader's small actions renew only the pages that show them, and are
rate-limited (issue 22, item 10)."""

import pytest
from django.test import Client

from blog.discussion import comments
from blog.models import Comment, CommentLike, Post, Restack
from tests.factories import make_post, relax_moderation

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Argue here")


@pytest.fixture
def comment(post, bo) -> Comment:
    relax_moderation()
    return comments.post_comment(post, bo, "A first view", form_age=10).comment


def served(path: str) -> str:
    """How a signed-out reader's load of `path` was served: "hit" or "miss"."""
    return Client().get(path)["X-Page-Cache"]


def cached(*paths: str) -> None:
    for path in paths:
        served(path)
        assert served(path) == "hit"


PROFILE = {"display_name": "", "bio": "", "email_on_comments": "on", "email_on_replies": "on"}


def test_a_private_switch_on_a_profile_renews_no_page(client, rosa, post, commit) -> None:
    cached("/", post.get_absolute_url(), "/@rosa/")
    client.force_login(rosa)
    with commit():
        response = client.post("/settings/profile/", {**PROFILE, "email_on_moderation": "on"})
    assert response.status_code == 302
    assert (served("/"), served(post.get_absolute_url()), served("/@rosa/")) == ("hit", "hit", "hit")


def test_a_new_name_renews_every_page_and_a_new_bio_the_listings_only(client, rosa, post, commit) -> None:
    cached("/", post.get_absolute_url())
    client.force_login(rosa)
    with commit():
        client.post("/settings/profile/", {**PROFILE, "bio": "Reads everything."})
    assert "Reads everything." in Client().get("/@rosa/").content.decode()
    assert served(post.get_absolute_url()) == "hit"
    with commit():
        client.post("/settings/profile/", {**PROFILE, "bio": "Reads everything.", "display_name": "Rosa R."})
    assert served(post.get_absolute_url()) == "miss"


def test_a_comment_like_renews_its_post_page_but_not_the_listings(client, rosa, post, comment, commit) -> None:
    cached("/", post.get_absolute_url())
    client.force_login(rosa)
    with commit():
        assert client.post(f"/comments/{comment.pk}/like/").status_code == 302
    assert CommentLike.objects.filter(comment=comment, user=rosa).exists()
    assert served("/") == "hit"
    assert served(post.get_absolute_url()) == "miss"


def test_comment_likes_are_rate_limited(client, rosa, comment) -> None:
    client.force_login(rosa)
    answers = [client.post(f"/comments/{comment.pk}/like/").status_code for _ in range(31)]
    assert answers[:30] == [302] * 30
    assert answers[30] == 429
    refused = client.post(f"/comments/{comment.pk}/like/", HTTP_ACCEPT="application/json")
    assert refused.status_code == 429 and "liking comments very fast" in refused.json()["error"]
    assert Comment.objects.get(pk=comment.pk).like_count == 0  # 30 flips: liked, unliked, ...


def test_undoing_a_restack_is_rate_limited(client, rosa, post) -> None:
    client.force_login(rosa)
    answers = []
    for _ in range(6):
        answers.append(client.post(f"/p/{post.slug}/restack/", {"note": ""}).status_code)
        answers.append(client.post(f"/p/{post.slug}/restack/undo/").status_code)
    assert answers[:10] == [302] * 10 and answers[10:] == [429, 429]
    assert not Restack.objects.exists()
