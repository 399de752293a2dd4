"""Bans reach likes from e-mails, with or without an account, and the welcome
e-mail is for those who manage subscribers (issue 22, item 12)."""

import pytest

from blog.models import Ban, Like, NewsletterSettings, Post, Subscriber
from blog.newsletter.subscriptions import like_token
from tests.factories import grant, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Liked by e-mail")


def like_link(post: Post, subscriber: Subscriber) -> str:
    return f"/p/{post.slug}/like/by-email/{like_token(post, subscriber)}/"


def test_a_banned_reader_liking_from_an_e_mail_is_told_why_and_nothing_is_liked(client, post, milo) -> None:
    troll = make_user("troll")
    Ban.objects.create(user=troll, handle="troll", email=troll.email, reason="harassment", created_by=milo)
    subscriber = Subscriber.objects.create(email=troll.email, user=troll, status="active")
    response = client.post(like_link(post, subscriber))
    assert response.status_code == 403
    assert "You can&#x27;t take part here at the moment. Harassment" in response.content.decode()
    assert not Like.objects.exists() and Post.objects.get(pk=post.pk).like_count == 0


def test_a_subscriber_without_an_account_is_ban_checked_by_address(client, post, milo) -> None:
    Ban.objects.create(email="Spammer+news@Example.com", reason="spam", created_by=milo)
    banned = Subscriber.objects.create(email="spammer@example.com", status="active")
    response = client.post(like_link(post, banned))
    assert response.status_code == 403 and "Spam" in response.content.decode()
    assert not Like.objects.exists()
    welcome = Subscriber.objects.create(email="fan@example.com", status="active")
    response = client.post(like_link(post, welcome))
    assert response.status_code == 200 and "Liked. Thank you!" in response.content.decode()
    assert Like.objects.filter(subscriber=welcome).count() == 1


WELCOME = {"welcome_enabled": "on", "welcome_subject": "Hi from {site}", "welcome_body": "Taken over."}


def test_authors_and_moderators_cannot_edit_the_site_wide_welcome_e_mail(client, ada, bo, milo) -> None:
    for person in (ada, bo, milo):
        client.force_login(person)
        assert client.get("/write/welcome/").status_code in (302, 403)
        assert client.post("/write/welcome/", WELCOME).status_code in (302, 403)
    assert not NewsletterSettings.load().welcome_enabled
    client.force_login(ada)
    assert "/write/welcome/" not in client.get("/write/").content.decode()


def test_a_subscriber_manager_edits_the_welcome_e_mail(client, ada) -> None:
    client.logout()
    assert client.post("/write/welcome/", WELCOME).status_code == 302
    manager = grant(ada, "blog.manage_subscribers")
    client.force_login(manager)
    assert "/write/welcome/" in client.get("/write/").content.decode()
    assert client.post("/write/welcome/", WELCOME).status_code == 302
    assert NewsletterSettings.load().welcome_body == "Taken over."
