"""Reading comments (blog/discussion/threads.py): who sees which comment, placeholders,
and the count every page shows."""

import pytest
from django.contrib.auth.models import AnonymousUser

from blog.discussion import threads
from blog.models import Comment, Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db

Status = Comment.Status


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Threads")


def add(post: Post, author, body: str, *, parent: Comment | None = None, **fields) -> Comment:
    level = parent.level + 1 if parent else 1
    return Comment.objects.create(
        post=post, author=author, body=body, body_html=f"<p>{body}</p>", parent=parent, reply_to=parent, level=level,
        **fields,
    )  # fmt: skip


def bodies(comments: list[Comment]) -> list[str]:
    return [c.body for c in comments]


def test_a_held_comment_is_shown_to_its_author_only(post, rosa, bo) -> None:
    add(post, bo, "Public")
    add(post, rosa, "Waiting", status=Status.HELD)
    assert bodies(threads.thread(post, rosa)) == ["Public", "Waiting"]
    assert bodies(threads.thread(post, bo)) == ["Public"]
    assert bodies(threads.thread(post, AnonymousUser())) == ["Public"]


def test_a_removed_comment_stays_as_a_placeholder_only_while_it_has_replies(post, rosa, bo) -> None:
    removed = add(post, rosa, "Rude", status=Status.REMOVED)
    add(post, bo, "Lonely and removed", status=Status.REMOVED)
    add(post, bo, "Answer", parent=removed)
    shown = threads.thread(post, bo)
    assert bodies(shown) == ["Rude", "Answer"]
    assert shown[0].placeholder and not shown[1].placeholder


def test_the_count_counts_approved_comments_that_are_not_deleted(client, post, rosa, bo) -> None:
    kept = add(post, rosa, "Kept")
    deleted = add(post, rosa, "", is_deleted=True)
    add(post, bo, "Reply under a deleted one", parent=deleted)
    add(post, bo, "Held", status=Status.HELD)
    add(post, bo, "Spam", status=Status.SPAM)
    assert threads.approved_count(threads.thread(post, bo)) == 2
    assert Post.objects.for_listing().get(pk=post.pk).comment_count == 2
    assert Comment.objects.counted().count() == 2 and kept.is_counted
    assert "2 comments" in client.get(post.get_absolute_url()).content.decode()
