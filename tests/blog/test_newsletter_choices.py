"""How a post goes out (issue 13): a readable text part, a test e-mail to the
author, e-mail or web only with the recipient count, e-mailing an older post,
the welcome e-mail, and a like from the e-mail."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from blog import pagecache
from blog.models import Delivery, Like, NewsletterSettings, Post, Send, Subscriber
from blog.newsletter import delivery
from blog.newsletter.subscriptions import confirm_token, like_token
from blog.tasks import publish_due_posts, send_deliveries
from tests.blog.test_emails import LONG_SITE, assert_one_click_headers
from tests.factories import grant, make_post

pytestmark = pytest.mark.django_db

BODY = (
    "The **budget** grew[^1], see [the table](https://data.example/t) and [our archive](/archive/).\n\n"
    "[^1]: Treasury, *Annual report*, p. 4.\n"
)


def active(n: int, frequency: str = "post") -> list[Subscriber]:
    return [Subscriber.objects.create(email=f"{frequency}{i}@example.com", status="active", frequency=frequency)
            for i in range(n)]  # fmt: skip


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a view or task and run what it queued after commit."""

    def go(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return go


@pytest.fixture
def draft(ada) -> Post:
    return make_post(ada, "The budget", status=Post.Status.DRAFT, body=BODY)


# --- Bug 10: the plain-text part --------------------------------------------------


def test_the_text_part_is_readable_with_numbered_notes_and_urls(client, ada, draft, run, settings) -> None:
    settings.NEWSLETTER_CLICK_COUNTING = False  # the addresses as written, not through the click redirect
    active(1)
    client.force_login(ada)
    run(client.post, f"/write/{draft.pk}/publish/", {"delivery": "email"})
    [message] = mail.outbox
    text = message.body
    flat = " ".join(text.split())
    assert "**" not in text and "[^1]" not in text and "](" not in text
    assert "The budget grew[1], see the table (https://data.example/t)" in flat
    assert "our archive (http://127.0.0.1:8000/archive/)" in flat
    assert "Notes\n\n[1] Treasury, Annual report, p. 4." in text


# --- Publish: e-mail or web only, with the count ----------------------------------


def test_publishing_asks_how_and_says_how_many_will_get_it(client, ada, draft) -> None:
    active(2)
    active(1, "weekly")
    active(1, "daily")
    client.force_login(ada)
    page = client.get(f"/write/{draft.pk}/publish/").content.decode()
    assert "Publish and e-mail it to 2 subscribers" in page
    assert "And 2 more get it in their daily or weekly digest." in page
    assert "Publish on the web only" in page
    Subscriber.objects.filter(frequency="post").exclude(email="post0@example.com").delete()
    assert "e-mail it to 1 subscriber</label>" in client.get(f"/write/{draft.pk}/publish/").content.decode()


def test_publish_and_email_sends_to_each_post_subscribers(client, ada, draft, run) -> None:
    active(2)
    client.force_login(ada)
    response = run(client.post, f"/write/{draft.pk}/publish/", {"delivery": "email"}, follow=True)
    assert "Published, and on its way to 2 subscribers." in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_live and draft.email_subscribers
    assert sorted(m.to[0] for m in mail.outbox) == ["post0@example.com", "post1@example.com"]


def test_publish_on_the_web_only_sends_nothing_now_or_in_digests(client, ada, draft, run) -> None:
    active(1)
    [weekly] = active(1, "daily")
    Subscriber.objects.filter(pk=weekly.pk).update(confirmed_at=timezone.now() - timedelta(days=2), digest_hour=0)
    client.force_login(ada)
    response = run(client.post, f"/write/{draft.pk}/publish/", {"delivery": "web"}, follow=True)
    assert "Published on the web only; no e-mail was sent." in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_live and not draft.email_subscribers
    assert not Send.objects.exists() and not mail.outbox
    assert delivery.create_due_digests(timezone.now() + timedelta(days=1)) == []


def test_publishing_without_a_choice_is_refused_and_publishes_nothing(client, ada, draft) -> None:
    client.force_login(ada)
    response = client.post(f"/write/{draft.pk}/publish/", {})
    assert response.status_code == 400
    assert "Choose whether to e-mail it or to publish it on the web only." in response.content.decode()
    assert not Post.objects.get(pk=draft.pk).is_live


def test_publishing_is_for_the_posts_author(client, bo, rosa, draft) -> None:
    url = f"/write/{draft.pk}/publish/"
    assert client.post(url, {"delivery": "web"}).status_code == 302  # visitors sign in first
    client.force_login(rosa)
    assert client.post(url, {"delivery": "web"}).status_code == 403
    client.force_login(bo)
    assert client.post(url, {"delivery": "web"}).status_code == 404
    assert not Post.objects.get(pk=draft.pk).is_live


def test_a_live_post_is_not_published_twice(client, ada, run) -> None:
    post = make_post(ada, "Out already")
    active(1)
    client.force_login(ada)
    response = run(client.post, f"/write/{post.pk}/publish/", {"delivery": "email"})
    assert response.url == f"/write/{post.pk}/" and not mail.outbox


def test_a_scheduled_post_is_emailed_only_if_asked(client, ada, run) -> None:
    active(1)
    client.force_login(ada)
    when = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for title, ticked in [("Web only later", {}), ("E-mailed later", {"email_subscribers": "on"})]:
        fields = {"title": title, "body": "x", "action": "schedule", "publish_at": when, **ticked}
        client.post("/write/new/", fields)
    Post.objects.update(published_at=timezone.now() - timedelta(minutes=1))
    run(publish_due_posts)
    assert [m.subject for m in mail.outbox] == ["E-mailed later"]


# --- E-mailing an older web-only post ---------------------------------------------


def test_an_older_web_only_post_can_be_emailed_later(client, ada, run) -> None:
    post = make_post(ada, "From last week", email_subscribers=False)
    active(3)
    client.force_login(ada)
    page = client.get(f"/write/{post.pk}/send/").content.decode()
    assert "E-mail it now to 3 subscribers" in page
    response = run(client.post, f"/write/{post.pk}/send/start/", follow=True)
    assert "On its way to 3 subscribers." in response.content.decode()
    assert len(mail.outbox) == 3
    run(client.post, f"/write/{post.pk}/send/start/")
    assert len(mail.outbox) == 3 and Send.objects.count() == 1


def test_emailing_an_older_post_needs_post_by_its_author(client, ada, bo, run) -> None:
    post = make_post(ada, "From last week", email_subscribers=False)
    draft = make_post(ada, "Not out", status=Post.Status.DRAFT)
    active(1)
    client.force_login(ada)
    assert client.get(f"/write/{post.pk}/send/start/").status_code == 405
    assert client.post(f"/write/{draft.pk}/send/start/").status_code == 404
    client.force_login(bo)
    assert run(client.post, f"/write/{post.pk}/send/start/").status_code == 404
    assert not mail.outbox


# --- A test e-mail to the author ----------------------------------------------------


def test_the_author_gets_a_test_email_of_the_draft(client, ada, draft, run) -> None:
    active(2)
    client.force_login(ada)
    response = run(client.post, f"/write/{draft.pk}/test-email/", follow=True)
    assert "A test e-mail of this post is on its way to ada@example.com." in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["ada@example.com"] and message.subject == "[Test] The budget"
    assert "List-Unsubscribe" not in message.extra_headers
    assert "The budget grew[1]" in message.body
    html = message.alternatives[0][0]
    assert "%%" not in html and "%%" not in message.body
    assert not Post.objects.get(pk=draft.pk).is_live


def test_test_emails_are_for_the_author_by_post(client, bo, rosa, draft, run) -> None:
    url = f"/write/{draft.pk}/test-email/"
    assert client.post(url).status_code == 302
    client.force_login(rosa)
    assert client.post(url).status_code == 403
    client.force_login(bo)
    assert run(client.post, url).status_code == 404
    assert client.get(url).status_code == 405
    assert not mail.outbox


# --- The welcome e-mail ----------------------------------------------------------------


def confirm(client, subscriber: Subscriber, run):
    return run(client.post, f"/subscribe/confirm/{confirm_token(subscriber)}/")


def test_no_welcome_e_mail_unless_the_desk_turns_it_on(client, run) -> None:
    pending = Subscriber.objects.create(email="new@example.com")
    confirm(client, pending, run)
    assert Subscriber.objects.get(pk=pending.pk).status == "active"
    assert not mail.outbox


def test_a_subscriber_manager_writes_the_welcome_and_new_subscribers_get_it_once(client, ada, run) -> None:
    client.force_login(grant(ada, "blog.manage_subscribers"))
    body = "Glad you are here. Start with [the archive](/archive/)."
    client.post(
        "/write/welcome/", {"welcome_enabled": "on", "welcome_subject": "Hello from {site}", "welcome_body": body}
    )
    client.logout()
    pending = Subscriber.objects.create(email="new@example.com")
    confirm(client, pending, run)
    confirm(client, pending, run)
    [message] = mail.outbox
    assert message.to == ["new@example.com"] and message.subject == "Hello from Dispatch"
    assert "Glad you are here. Start with the archive (http://127.0.0.1:8000/archive/)." in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.search(r"Unsubscribe: http://127\.0\.0\.1:8000/unsubscribe/\S+/", message.body)


def test_the_welcome_form_refuses_an_empty_subject(client, ada) -> None:
    client.force_login(grant(ada, "blog.manage_subscribers"))
    response = client.post("/write/welcome/", {"welcome_enabled": "on", "welcome_subject": "", "welcome_body": "x"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not NewsletterSettings.load().welcome_enabled


def test_only_authors_edit_the_welcome(client, rosa) -> None:
    assert client.get("/write/welcome/").status_code == 302
    client.force_login(rosa)
    assert client.post("/write/welcome/", {"welcome_enabled": "on", "welcome_subject": "x",
                                           "welcome_body": "x"}).status_code == 403  # fmt: skip
    assert not NewsletterSettings.load().welcome_enabled


# --- A like from the e-mail ---------------------------------------------------------


def test_each_subscriber_gets_their_own_like_link(ada, run) -> None:
    first, second = active(2)
    post = make_post(ada, "Likeable", status=Post.Status.DRAFT)
    post.status, post.published_at = Post.Status.PUBLISHED, timezone.now()
    post.save()
    send = delivery.create_send(post)
    run(send_deliveries, list(send.deliveries.values_list("pk", flat=True)))
    by_address = {m.to[0]: m for m in mail.outbox}
    for subscriber in (first, second):
        link = f"http://127.0.0.1:8000/p/likeable/like/by-email/{like_token(post, subscriber)}/"
        assert link in by_address[subscriber.email].body
        assert f'href="{link}"' in by_address[subscriber.email].alternatives[0][0]
    assert Delivery.objects.filter(status="sent").count() == 2


def test_a_subscriber_without_an_account_likes_in_one_press(client, ada) -> None:
    post = make_post(ada, "Likeable")
    [subscriber] = active(1)
    url = f"/p/{post.slug}/like/by-email/{like_token(post, subscriber)}/"
    page = client.get(url).content.decode()
    assert "Like “Likeable”?" in page and not Like.objects.exists()  # a mail scanner's GET likes nothing
    response = client.post(url)
    page = response.content.decode()
    assert "Liked. Thank you!" in page and "1 like." in page
    assert pagecache.FRESH_COOKIE in response.cookies  # the post page they open next shows their like
    client.post(url)
    assert Like.objects.get().subscriber == subscriber and Post.objects.get(pk=post.pk).like_count == 1


def test_a_subscriber_with_an_account_likes_as_that_account(client, ada, rosa) -> None:
    post = make_post(ada, "Likeable")
    subscriber = Subscriber.objects.create(email=rosa.email, user=rosa, status="active")
    client.post(f"/p/{post.slug}/like/by-email/{like_token(post, subscriber)}/")
    assert Like.objects.get().user == rosa


def test_a_like_link_for_another_post_or_tampered_is_refused(client, ada) -> None:
    post, other = make_post(ada, "Likeable"), make_post(ada, "Other")
    [subscriber] = active(1)
    for url in [f"/p/{other.slug}/like/by-email/{like_token(post, subscriber)}/",
                f"/p/{post.slug}/like/by-email/{like_token(post, subscriber)}x/"]:  # fmt: skip
        response = client.post(url)
        assert response.status_code == 400 and "This like link is not valid" in response.content.decode()
    assert not Like.objects.exists()


def test_a_draft_cannot_be_liked_from_an_email_link(client, ada) -> None:
    post = make_post(ada, "Not yet", status=Post.Status.DRAFT)
    [subscriber] = active(1)
    assert client.post(f"/p/{post.slug}/like/by-email/{like_token(post, subscriber)}/").status_code == 404


@pytest.fixture
def wire(settings, smtp_sink):
    """As in test_emails.py: a real SMTP server, and a site address long enough to fold headers."""
    settings.SITE_URL = LONG_SITE
    options = {"host": smtp_sink.host, "port": smtp_sink.port, "timeout": 5}
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}
    return smtp_sink


def test_the_welcome_email_has_unfolded_one_click_headers(wire, run) -> None:
    NewsletterSettings.objects.update_or_create(pk=1, defaults={"welcome_enabled": True})
    pending = Subscriber.objects.create(email="new@example.com")
    confirm(Client(), pending, run)
    [received] = wire.messages
    assert received["Subject"] == "Welcome to Dispatch"
    assert_one_click_headers(received.raw_headers)
