from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import MODERATORS
from blog.discussion import moderation
from blog.models import Comment, Post
from tests.factories import make_post, make_user, relax_moderation, say

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules():
    relax_moderation(comments_per_minute=100)


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Argue here")


def test_a_reader_comments_and_everyone_sees_it(client, rosa, post) -> None:
    client.force_login(rosa)
    response = say(client, post, "A *fair* point, [source](https://example.org).")
    comment = Comment.objects.get()
    assert response.status_code == 302 and response.url == f"/p/{post.slug}/?comment={comment.pk}#comment-{comment.pk}"
    client.logout()
    page = client.get(post.get_absolute_url()).content.decode()
    assert "A <em>fair</em> point" in page
    assert 'rel="nofollow ugc noopener"' in page
    assert "1 comment" in page


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something before posting."),
        ("   ", "Write something before posting."),
        ("x" * 10_001, "Comments can be at most 10,000 characters (this one has 10,001)."),
    ],
)
def test_bad_comments_are_refused_with_a_message_and_nothing_saved(client, rosa, post, body, message) -> None:
    client.force_login(rosa)
    response = say(client, post, body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Comment.objects.exists()


def test_a_reply_to_a_comment_on_another_post_is_refused(client, rosa, bo, ada, post) -> None:
    other = make_post(ada, "Elsewhere")
    client.force_login(bo)
    say(client, other, "Over there")
    client.force_login(rosa)
    response = say(client, post, "Reply", reply_to=Comment.objects.get().pk)
    assert response.status_code == 400 and "not on this post" in response.content.decode()
    assert Comment.objects.count() == 1


def test_a_reply_to_a_hidden_comment_is_refused(client, rosa, bo, post) -> None:
    client.force_login(bo)
    say(client, post, "Soon held")
    Comment.objects.update(status="held")
    client.force_login(rosa)
    response = say(client, post, "Reply", reply_to=Comment.objects.get().pk)
    assert response.status_code == 400
    assert Comment.objects.count() == 1


def test_closed_posts_refuse_comments_and_say_why(client, rosa, ada) -> None:
    closed = make_post(ada, "Closed", comments_open=False)
    client.force_login(rosa)
    response = say(client, closed, "Let me in")
    assert response.status_code == 400 and "Comments are closed on this post." in response.content.decode()
    assert "The author has closed comments on this post." in client.get(closed.get_absolute_url()).content.decode()
    assert not Comment.objects.exists()


def test_an_unverified_reader_cannot_comment(client, post) -> None:
    from accounts.models import User

    newcomer = User.objects.create_user("new", "new@example.com", "pw-long-enough")
    client.force_login(newcomer)
    response = say(client, post, "Hello")
    assert "Verify your e-mail address before commenting" in response.content.decode()
    assert not Comment.objects.exists()


def test_visitors_are_sent_to_sign_in_and_get_is_refused(client, rosa, post) -> None:
    response = say(client, post, "Anonymous")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(rosa)
    assert client.get(f"/p/{post.slug}/comments/new/").status_code == 405
    assert not Comment.objects.exists()


def test_threads_nest_to_four_levels_then_flatten(client, rosa, bo, post) -> None:
    parent = None
    for depth in range(6):
        client.force_login(rosa if depth % 2 == 0 else bo)
        response = say(client, post, f"Level talk {depth}", reply_to=parent.pk if parent else "")
        assert response.status_code == 302, (depth, response.content.decode()[-300:])
        parent = Comment.objects.latest("pk")
    levels = list(Comment.objects.order_by("pk").values_list("level", flat=True))
    assert levels == [1, 2, 3, 4, 5, 5]
    fourth, fifth, sixth = Comment.objects.order_by("pk")[3:]
    assert fifth.parent == fourth and sixth.parent == fourth and sixth.reply_to == fifth


def test_comment_permalink_page_shows_its_thread(client, rosa, bo, post) -> None:
    client.force_login(rosa)
    say(client, post, "Root remark")
    root = Comment.objects.get()
    client.force_login(bo)
    say(client, post, "A reply", reply_to=root.pk)
    client.logout()
    page = client.get(f"/p/{post.slug}/comments/{root.pk}/").content.decode()
    assert "Root remark" in page and "A reply" in page


def test_sorting_by_newest_and_top(client, rosa, bo, post) -> None:
    client.force_login(rosa)
    say(client, post, "First said")
    client.force_login(bo)
    say(client, post, "Second said")
    first = Comment.objects.get(body="First said")
    client.post(f"/comments/{first.pk}/like/")
    newest = client.get(f"{post.get_absolute_url()}?sort=newest").content.decode()
    assert newest.index("Second said") < newest.index("First said")
    top = client.get(f"{post.get_absolute_url()}?sort=top").content.decode()
    assert top.index("First said") < top.index("Second said")


def test_authors_edit_within_fifteen_minutes_and_it_shows(client, rosa, bo, post) -> None:
    client.force_login(rosa)
    say(client, post, "Typo hree")
    comment = Comment.objects.get()
    client.post(f"/comments/{comment.pk}/edit/", {"body": "Typo here"})
    comment.refresh_from_db()
    assert comment.body == "Typo here" and comment.edited_at
    assert "(edited)" in client.get(post.get_absolute_url()).content.decode()
    Comment.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    response = client.post(f"/comments/{comment.pk}/edit/", {"body": "Too late"})
    assert response.status_code == 400 and "15 minutes" in response.content.decode()
    client.force_login(bo)
    Comment.objects.update(created_at=timezone.now())
    assert client.post(f"/comments/{comment.pk}/edit/", {"body": "Not mine"}).status_code == 400
    assert Comment.objects.get().body == "Typo here"


def test_deleting_a_comment_with_replies_leaves_a_placeholder(client, rosa, bo, post) -> None:
    client.force_login(rosa)
    say(client, post, "Will be deleted")
    root = Comment.objects.get()
    client.force_login(bo)
    say(client, post, "Still here", reply_to=root.pk)
    assert client.post(f"/comments/{root.pk}/delete/").status_code == 400  # not bo's
    client.force_login(rosa)
    client.post(f"/comments/{root.pk}/delete/")
    page = client.get(post.get_absolute_url()).content.decode()
    assert "This comment was deleted by its author." in page and "Still here" in page
    assert "Will be deleted" not in page
    assert "1 comment" in page


def test_deleting_a_comment_without_replies_hides_it_and_keeps_it_for_moderators(client, rosa, post) -> None:
    client.force_login(rosa)
    say(client, post, "Gone soon")
    client.post(f"/comments/{Comment.objects.get().pk}/delete/")
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Gone soon" not in page and "deleted by its author" not in page
    kept = Comment.objects.get()
    assert kept.is_deleted and kept.body == "Gone soon"


def test_post_author_gets_a_badge_and_pins_one_comment(client, ada, rosa, bo, post) -> None:
    client.force_login(rosa)
    say(client, post, "Reader view")
    client.force_login(ada)
    say(client, post, "Author view")
    reader_comment = Comment.objects.get(body="Reader view")
    client.force_login(bo)
    assert client.post(f"/comments/{reader_comment.pk}/pin/").status_code == 400
    client.force_login(ada)
    client.post(f"/comments/{reader_comment.pk}/pin/")
    page = client.get(f"{post.get_absolute_url()}?sort=newest").content.decode()
    assert page.index("Reader view") < page.index("Author view")  # pinned first, whatever the sort
    assert '<span class="badge">Author</span>' in page


def test_readers_like_comments_once(client, rosa, bo, post) -> None:
    client.force_login(rosa)
    say(client, post, "Likeable")
    comment = Comment.objects.get()
    client.force_login(bo)
    client.post(f"/comments/{comment.pk}/like/")
    assert Comment.objects.get().like_count == 1
    client.post(f"/comments/{comment.pk}/like/")
    assert Comment.objects.get().like_count == 0


def test_comment_counts_on_cards_count_approved_comments_only(client, rosa, post) -> None:
    client.force_login(rosa)
    say(client, post, "Counted")
    say(client, post, "Not counted")
    Comment.objects.filter(body="Not counted").update(status="held")
    client.logout()
    assert "1 comment</a>" in client.get("/").content.decode()


def test_the_post_page_runs_the_same_queries_for_5_and_500_comments(client, ada, rosa) -> None:
    def queries_for(count: int) -> int:
        post = make_post(ada, f"Busy {count}")
        readers = [rosa, make_user(f"reader{count}")]
        made = []
        for i in range(count):
            parent = made[i // 3] if i >= 3 and i % 2 else None
            made.append(Comment.objects.create(
                post=post, author=readers[i % 2], body=f"c{i}", body_html=f"<p>c{i}</p>", parent=parent,
                reply_to=parent, level=min(parent.level + 1, 5) if parent else 1,
            ))  # fmt: skip
        client.force_login(rosa)
        client.get(post.get_absolute_url())  # warm: session, caches, the reader's referral code
        client.get(post.get_absolute_url())  # and the reader's row, changed by that code
        with CaptureQueriesContext(connection) as queries:
            assert client.get(post.get_absolute_url()).status_code == 200
        return len(queries)

    assert queries_for(5) == queries_for(500)


def test_signed_out_readers_see_each_change_on_their_next_load(
    client, rosa, bo, post, django_capture_on_commit_callbacks
) -> None:
    """Their list is rendered once and cached; every change must still show at once."""

    def as_visitor() -> str:
        client.logout()
        return client.get(post.get_absolute_url()).content.decode()

    def as_reader(user, url: str, data: dict | None = None) -> None:
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, data or {})

    as_reader(rosa, f"/p/{post.slug}/comments/new/", {"body": "First take", "ts": moderation.form_token()})
    comment = Comment.objects.get()
    assert "First take" in as_visitor()
    with CaptureQueriesContext(connection) as queries:
        assert "First take" in as_visitor()
    assert not [q for q in queries if "blog_comment" in q["sql"]]  # served from the cache

    as_reader(bo, f"/comments/{comment.pk}/like/")
    assert "♥ 1" in as_visitor()
    as_reader(rosa, f"/comments/{comment.pk}/edit/", {"body": "Second thoughts"})
    page = as_visitor()
    assert "Second thoughts" in page and "First take" not in page and "(edited)" in page
    as_reader(bo, f"/p/{post.slug}/comments/new/", {"body": "A reply", "ts": moderation.form_token(),
                                                     "reply_to": comment.pk})  # fmt: skip
    assert "2 comments" in as_visitor()
    as_reader(make_user("milo", role=MODERATORS), "/moderation/", {"action": "delete", "ids": [comment.pk]})
    page = as_visitor()
    assert "Second thoughts" not in page and "removed by a moderator" in page and "1 comment" in page
