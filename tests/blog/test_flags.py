import pytest
from django.core import mail
from django.test import Client

from blog import moderation
from blog.models import Comment, Flag, ModerationLog, ModerationSettings, Post
from blog.notifications import off_token
from tests.blog.conftest import make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules():
    ModerationSettings.objects.update_or_create(
        pk=1, defaults={"hold_first_comment": False, "min_seconds_to_submit": 0}
    )


def say(user, post: Post, body: str, reply_to: Comment | None = None) -> Comment:
    """Comment as `user` through the site, as a reader does."""
    client = Client()
    client.force_login(user)
    data = {"body": body, "ts": moderation.form_token(), "reply_to": reply_to.pk if reply_to else ""}
    assert client.post(f"/p/{post.slug}/comments/new/", data).status_code == 302
    return Comment.objects.filter(author=user).latest("pk")


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Flag me")


@pytest.fixture
def comment(post, rosa, django_capture_on_commit_callbacks) -> Comment:
    with django_capture_on_commit_callbacks(execute=True):
        return say(rosa, post, "Provocative take")


def test_three_flags_hide_a_comment_for_review(client, comment) -> None:
    for i in range(3):
        client.force_login(make_user(f"flagger{i}"))
        response = client.post(f"/comments/{comment.pk}/flag/", {"reason": "abuse", "note": "rude"})
        assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == "held" and comment.flag_count == 3
    assert ModerationLog.objects.filter(action="auto-hidden", comment=comment).exists()
    client.logout()
    assert "Provocative take" not in client.get(comment.post.get_absolute_url()).content.decode()


def test_a_second_flag_by_the_same_reader_is_refused(client, bo, comment) -> None:
    client.force_login(bo)
    client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"})
    response = client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 400 and "flagged this comment already" in response.content.decode()
    assert Flag.objects.count() == 1 and Comment.objects.get().flag_count == 1


def test_a_flag_needs_a_reason_and_not_your_own_comment(client, rosa, bo, comment) -> None:
    client.force_login(bo)
    assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "meh"}).status_code == 400
    client.force_login(rosa)
    assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"}).status_code == 400
    assert not Flag.objects.exists()


def test_flagging_needs_sign_in_and_post(client, bo, comment) -> None:
    assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"}).status_code == 302
    assert not Flag.objects.exists()


def test_the_post_author_hears_of_new_comments(ada, comment, django_capture_on_commit_callbacks) -> None:
    [message] = mail.outbox
    assert message.to == [ada.email]
    assert message.subject == "rosa commented on “Flag me”"
    assert f"#comment-{comment.pk}" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_commenter_hears_of_replies_and_can_turn_it_off(
    post, rosa, bo, comment, django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        say(bo, post, "I disagree", reply_to=comment)
    reply_mail = [m for m in mail.outbox if m.to == [rosa.email]]
    assert len(reply_mail) == 1 and "replied to you" in reply_mail[0].subject
    url = f"/notifications/off/{off_token(rosa, 'replies')}/"
    assert url in reply_mail[0].body
    Client(enforce_csrf_checks=True).post(url)  # one click from the mail provider
    rosa.refresh_from_db()
    assert rosa.email_on_replies is False
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        say(bo, post, "Still disagree", reply_to=comment)
    assert not [m for m in mail.outbox if m.to == [rosa.email]]


def test_a_tampered_notification_link_is_refused(client, rosa) -> None:
    token = off_token(rosa, "replies")
    assert client.post(f"/notifications/off/{token[:-2]}xx/").status_code == 400
    rosa.refresh_from_db()
    assert rosa.email_on_replies is True
