"""Moderators: the queue in the header with its count, and actions beside each comment."""

import pytest

from blog.models import Ban, Comment, ModerationLog, Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Moderated")


def comment(post: Post, author, body: str, status: str = "approved", **fields) -> Comment:
    return Comment.objects.create(
        post=post, author=author, body=body, body_html=f"<p>{body}</p>", status=status, **fields
    )


def test_moderators_see_the_queue_and_its_count_in_the_header(client, milo, post, rosa) -> None:
    comment(post, rosa, "Held one", status="held")
    comment(post, rosa, "Flagged one", flag_count=2)
    comment(post, rosa, "Fine one")
    client.force_login(milo)
    page = client.get("/").content.decode()
    assert 'href="/moderation/"' in page and "(2 waiting)" in page


def test_readers_do_not_see_the_queue_link(client, rosa, post) -> None:
    client.force_login(rosa)
    assert 'href="/moderation/"' not in client.get("/").content.decode()


def test_moderators_see_held_comments_on_the_post_with_actions(client, milo, post, rosa, bo) -> None:
    held = comment(post, rosa, "Waiting here", status="held")
    client.force_login(milo)
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Waiting here" in page and "Readers do not see it yet." in page
    assert f'name="ids" value="{held.pk}"' in page and 'value="approve"' in page
    client.force_login(bo)
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Waiting here" not in page and 'action="/moderation/"' not in page


def test_approving_on_the_post_page_returns_to_the_comment(client, milo, post, rosa) -> None:
    held = comment(post, rosa, "Approve me", status="held")
    client.force_login(milo)
    response = client.post("/moderation/", {"ids": held.pk, "action": "approve", "next": held.anchor_url})
    assert response.url == held.anchor_url
    held.refresh_from_db()
    assert held.status == "approved"
    assert ModerationLog.objects.get(comment=held).moderator == milo


def test_removing_and_banning_from_the_post_page(client, milo, post, rosa) -> None:
    bad = comment(post, rosa, "Remove me")
    client.force_login(milo)
    client.post("/moderation/", {"ids": bad.pk, "action": "delete", "next": bad.anchor_url})
    assert Comment.objects.get(pk=bad.pk).status == "removed"
    response = client.post("/moderation/", {"ids": bad.pk, "action": "ban", "ban_days": "7", "next": bad.anchor_url},
                           follow=True)  # fmt: skip
    assert "Say why the reader is banned" in response.content.decode()
    assert not Ban.objects.exists()
    client.post(
        "/moderation/", {"ids": bad.pk, "action": "ban", "ban_days": "7", "reason": "abuse", "next": bad.anchor_url}
    )
    assert Ban.objects.get().user == rosa


def test_the_next_address_must_be_on_this_site(client, milo, post, rosa) -> None:
    held = comment(post, rosa, "Approve me", status="held")
    client.force_login(milo)
    response = client.post("/moderation/", {"ids": held.pk, "action": "approve", "next": "https://evil.example/"})
    assert response.url == "/moderation/"


def test_readers_cannot_use_the_moderation_actions(client, rosa, post, bo) -> None:
    target = comment(post, bo, "Not yours")
    client.force_login(rosa)
    assert client.post("/moderation/", {"ids": target.pk, "action": "delete"}).status_code == 403
    assert Comment.objects.get(pk=target.pk).status == "approved"


# --- Confirmations and names -------------------------------------------------


def test_deleting_a_comment_asks_first(client, rosa, post) -> None:
    mine = comment(post, rosa, "Maybe delete me")
    client.force_login(rosa)
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'<a href="/comments/{mine.pk}/delete/">Delete</a>' in page
    page = client.get(f"/comments/{mine.pk}/delete/").content.decode()
    assert "Delete your comment?" in page and "Maybe delete me" in page
    assert not Comment.objects.get(pk=mine.pk).is_deleted
    client.post(f"/comments/{mine.pk}/delete/")
    assert Comment.objects.get(pk=mine.pk).is_deleted


def test_the_delete_question_is_only_for_the_author(client, rosa, bo, post) -> None:
    mine = comment(post, rosa, "Rosa's")
    client.force_login(bo)
    assert client.get(f"/comments/{mine.pk}/delete/").status_code == 400


def test_the_comment_like_button_is_named_for_what_it_does(client, rosa, post, bo) -> None:
    comment(post, bo, "Likeable", like_count=4)
    client.force_login(rosa)
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'aria-label="Like, 4 likes">♥ 4</button>' in page
    client.logout()
    page = client.get(post.get_absolute_url()).content.decode()  # signed out: a count, not a button
    assert '<span aria-hidden="true">♥ 4</span><span class="visually-hidden">4 likes</span>' in page
