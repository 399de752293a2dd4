"""The record (issue 11, items 9 and 10): deletion, revisions, admin edits and the log."""

import pytest

from accounts.roles import MODERATORS
from blog.discussion import comments, moderation
from blog.models import Ban, Comment, CommentRevision, Flag, ModerationLog, ModerationSettings, Post
from tests.factories import make_post, make_user, relax_moderation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rules() -> ModerationSettings:
    return relax_moderation()


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "On the record")


@pytest.fixture
def root(db):
    return make_user("root", is_staff=True, is_superuser=True)


def write(post: Post, author, body: str) -> Comment:
    return comments.post_comment(post, author, body, form_age=10).comment


# --- Item 9: soft delete, no deleting evidence, revisions ----------------------------


def test_a_flagged_comment_cannot_be_deleted_by_its_author(client, rosa, bo, post) -> None:
    comment = write(post, rosa, "Something I regret")
    client.force_login(bo)
    client.post(f"/comments/{comment.pk}/flag/", {"reason": "abuse"})
    client.force_login(rosa)
    response = client.post(f"/comments/{comment.pk}/delete/")
    assert response.status_code == 400 and "with the moderators" in response.content.decode()
    assert not Comment.objects.get(pk=comment.pk).is_deleted


def test_a_held_comment_cannot_be_deleted_by_its_author(client, rosa, post, rules) -> None:
    rules.moderation_words = "idiot"
    rules.save()
    comment = write(post, rosa, "What an idiot")
    assert comment.status == "held"
    client.force_login(rosa)
    assert client.post(f"/comments/{comment.pk}/delete/").status_code == 400
    assert Comment.objects.filter(pk=comment.pk, is_deleted=False).exists()


def test_deleting_keeps_the_text_for_moderators_only(client, rosa, milo, post) -> None:
    comment = write(post, rosa, "Said and unsaid")
    client.force_login(rosa)
    client.post(f"/comments/{comment.pk}/delete/")
    assert Comment.objects.get(pk=comment.pk).body == "Said and unsaid"
    assert "Said and unsaid" not in client.get(post.get_absolute_url()).content.decode()
    assert client.get(f"/comments/{comment.pk}/flag/").status_code == 404
    client.force_login(milo)
    assert "Said and unsaid" in client.get(f"/moderation/comments/{comment.pk}/revisions/").content.decode()


def test_an_edit_keeps_the_earlier_version_for_moderators(client, rosa, milo, post) -> None:
    comment = write(post, rosa, "The original claim")
    client.force_login(rosa)
    client.post(f"/comments/{comment.pk}/edit/", {"body": "A softer claim"})
    [revision] = CommentRevision.objects.filter(comment=comment)
    assert (revision.body, revision.replaced_by) == ("The original claim", "rosa")
    assert "The original claim" not in client.get(post.get_absolute_url()).content.decode()
    assert client.get(f"/moderation/comments/{comment.pk}/revisions/").status_code == 403
    client.force_login(milo)
    page = client.get(f"/moderation/comments/{comment.pk}/revisions/").content.decode()
    assert "The original claim" in page and "A softer claim" in page


# --- Item 10: admin edits, ban changes and the actor's handle --------------------------


INLINE = {"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}


def admin_change(client, comment: Comment, body: str, **extra: object):
    data = {"body": body, "_save": "Save", **INLINE, **extra}
    return client.post(f"/admin/blog/comment/{comment.pk}/change/", data)


def test_an_admin_edit_is_rendered_kept_and_logged(client, root, rosa, post) -> None:
    comment = write(post, rosa, "Call me at 555-0100")
    client.force_login(root)
    assert admin_change(client, comment, "Call me at [number removed]").status_code == 302
    comment.refresh_from_db()
    assert comment.body_html == "<p>Call me at [number removed]</p>"
    assert CommentRevision.objects.get(comment=comment).body == "Call me at 555-0100"
    entry = ModerationLog.objects.get(action="edit")
    assert (entry.moderator_handle, entry.comment) == ("root", comment)


def test_the_admin_edits_no_other_field_of_a_comment(client, root, rosa, bo, post) -> None:
    comment = write(post, rosa, "Mine")
    client.force_login(root)
    assert admin_change(client, comment, "Mine", author=bo.pk, status="spam").status_code == 302
    comment.refresh_from_db()
    assert (comment.author, comment.status) == (rosa, "approved")
    assert client.post(f"/admin/blog/comment/{comment.pk}/delete/", {"post": "yes"}).status_code == 403


def test_admin_ban_changes_and_lifts_are_logged(client, root, rosa) -> None:
    ban = Ban.objects.create(user=rosa, handle="rosa", email=rosa.email, reason="spam")
    client.force_login(root)
    client.post(f"/admin/blog/ban/{ban.pk}/change/", {"reason": "spam links", "until_0": "", "until_1": ""})
    assert Ban.objects.get().reason == "spam links"
    assert ModerationLog.objects.filter(action="ban-changed", moderator_handle="root").exists()
    client.post("/admin/blog/ban/", {"action": "lift", "_selected_action": [ban.pk]})
    assert Ban.objects.get().lifted_at is not None
    assert ModerationLog.objects.filter(action="ban-lifted", moderator_handle="root").exists()
    assert client.post(f"/admin/blog/ban/{ban.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_deleted_moderators_decisions_still_name_them(client, rosa, post) -> None:
    gone = make_user("gone", role=MODERATORS)
    comment = write(post, rosa, "Judged")
    moderation.reject_comment(gone, comment, "off topic")
    gone.delete()
    entry = ModerationLog.objects.get(action="reject")
    assert entry.moderator is None and entry.actor == "@gone"
    client.force_login(make_user("milo", role=MODERATORS))
    page = client.get("/moderation/log/?moderator=gone").content.decode()
    assert "@gone" in page and "off topic" in page
    assert "off topic" not in client.get("/moderation/log/?moderator=rules").content.decode()


def test_the_queue_names_the_flaggers_and_keeps_decided_flags(client, milo, rosa, bo, post) -> None:
    comment = write(post, rosa, "Contested")
    Flag.objects.create(comment=comment, user=bo, reason="abuse")
    Comment.objects.filter(pk=comment.pk).update(flag_count=1)
    client.force_login(milo)
    assert "Flagged by @bo" in client.get("/moderation/").content.decode()
