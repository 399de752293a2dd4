"""Comment notifications (blog/discussion/notifications.py): who hears of a comment, the
e-mail they get, and the one-click link that turns that kind off."""

import pytest
from django.core import mail
from django.test import Client

from blog.discussion import moderation
from blog.discussion.notifications import Kind, Notice, notices_for, off_token
from blog.models import Comment, ModerationSettings, Post
from tests.factories import comment_as, make_post, relax_moderation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules():
    relax_moderation()


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Flag me")


@pytest.fixture
def comment(post, rosa, django_capture_on_commit_callbacks) -> Comment:
    with django_capture_on_commit_callbacks(execute=True):
        return comment_as(rosa, post, "Provocative take")


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
        comment_as(bo, post, "I disagree", reply_to=comment)
    reply_mail = [m for m in mail.outbox if m.to == [rosa.email]]
    assert len(reply_mail) == 1 and "replied to you" in reply_mail[0].subject
    url = f"/notifications/off/{off_token(rosa, 'replies')}/"
    assert url in reply_mail[0].body
    Client(enforce_csrf_checks=True).post(url)  # one click from the mail provider
    rosa.refresh_from_db()
    assert rosa.email_on_replies is False
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        comment_as(bo, post, "Still disagree", reply_to=comment)
    assert not [m for m in mail.outbox if m.to == [rosa.email]]


def test_a_tampered_notification_link_is_refused(client, rosa) -> None:
    token = off_token(rosa, "replies")
    assert client.post(f"/notifications/off/{token[:-2]}xx/").status_code == 400
    rosa.refresh_from_db()
    assert rosa.email_on_replies is True


def test_nobody_hears_of_their_own_comment_and_a_reply_is_told_once(ada, rosa, post) -> None:
    own = Comment.objects.create(post=post, author=ada, body="Author here", body_html="")
    assert notices_for(own) == []
    first = Comment.objects.create(post=post, author=rosa, body="Reader", body_html="")
    answer = Comment.objects.create(post=post, author=ada, reply_to=first, body="Thanks", body_html="")
    # The author answering gets no e-mail about their own post; rosa hears once, as a reply.
    assert notices_for(answer) == [Notice(Kind.REPLIES, answer.pk, rosa.pk)]


def test_a_held_comment_is_announced_when_a_moderator_approves_it(
    ada, rosa, milo, post, django_capture_on_commit_callbacks
) -> None:
    ModerationSettings.objects.update(hold_first_comment=True)
    with django_capture_on_commit_callbacks(execute=True):
        held = comment_as(rosa, post, "Wait for me")
    assert mail.outbox == []
    client = Client()
    client.force_login(milo)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/moderation/", {"action": "approve", "ids": [held.pk]})
    [message] = mail.outbox
    assert message.to == [ada.email] and "Wait for me" in message.body
    assert moderation.approve_comment(milo, held) == []  # approving again announces nothing


def test_the_off_link_asks_on_get_and_acts_on_post(client, rosa) -> None:
    url = f"/notifications/off/{off_token(rosa, Kind.COMMENTS)}/"
    page = client.get(url)
    assert page.status_code == 200 and "new comments on your posts" in page.content.decode()
    rosa.refresh_from_db()
    assert rosa.email_on_comments is True  # a mail scanner's GET changes nothing
    client.post(url)
    rosa.refresh_from_db()
    assert rosa.email_on_comments is False


def test_a_reader_who_turned_comments_off_gets_none(ada, rosa, post, django_capture_on_commit_callbacks) -> None:
    ada.email_on_comments = False
    ada.save()
    with django_capture_on_commit_callbacks(execute=True):
        comment_as(rosa, post, "Nobody is told")
    assert mail.outbox == []
