"""Every e-mail the site sends, as it crosses the wire to a real SMTP server.

Each kind carries the same RFC 8058 headers from the same code, never folded
into RFC 2047 encoded words (mail providers would not see a URL there); the
account e-mails name the site from SITE_NAME/SITE_URL and have an HTML part
in the site's look; the moderators get no digest when nothing waits."""

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.roles import MODERATORS
from blog.discussion import moderation
from blog.models import ModerationSettings, Post, Subscriber
from blog.newsletter import delivery, emails
from blog.newsletter.subscriptions import like_token, manage_token
from blog.shared.site import absolute
from blog.tasks import send_moderation_digest
from config.celery import app as celery_app
from tests.factories import comment_as, make_post, make_subscribers, make_user, publish, relax_moderation

pytestmark = pytest.mark.django_db

LONG_SITE = "https://news.a-publication-with-a-rather-long-name.example.com"


@pytest.fixture
def wire(settings, smtp_sink):
    """Mail goes to the SMTP sink; the site's address makes every header long."""
    settings.SITE_URL = LONG_SITE
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp_sink.host, "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


@pytest.fixture(autouse=True)
def _rules():
    relax_moderation()


def assert_one_click_headers(raw_headers: bytes) -> None:
    unsubscribe = re.search(rb"\r\nList-Unsubscribe: <(https://[^>\s]+)>\r\n", raw_headers)
    assert unsubscribe, raw_headers.decode()
    assert unsubscribe.group(1).startswith(LONG_SITE.encode())
    assert len(unsubscribe.group(0)) > 80  # long enough that Python would have folded it
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw_headers
    assert b"=?utf-8?" not in raw_headers.split(b"\r\nList-Unsubscribe")[1].split(b"\r\n")[0]


def test_the_newsletter_has_unfolded_one_click_headers(wire, ada, django_capture_on_commit_callbacks) -> None:
    make_subscribers(active=1)
    post = make_post(ada, "Out today", status=Post.Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        publish(post)
    [received] = wire.messages
    assert_one_click_headers(received.raw_headers)
    assert b"\r\nPrecedence: bulk\r\n" in received.raw_headers


def test_the_digest_has_unfolded_one_click_headers(wire, ada) -> None:
    now = datetime(2026, 11, 25, 9, 5, tzinfo=UTC)
    Subscriber.objects.create(
        email="daily@example.com", status="active", frequency="daily", digest_hour=8,
        confirmed_at=datetime(2026, 11, 24, tzinfo=UTC),
    )  # fmt: skip
    make_post(ada, "Fresh", published_at=datetime(2026, 11, 25, 6, tzinfo=UTC))
    delivery.send_deliveries(delivery.create_due_digests(now=now))
    [received] = wire.messages
    assert received["Subject"] == "Your daily digest from Dispatch: Fresh"
    assert_one_click_headers(received.raw_headers)


def test_the_subscription_confirmation_has_unfolded_one_click_headers(
    wire, client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/subscribe/", {"email": "new@example.com"})
    [received] = wire.messages
    assert received["Subject"] == "Confirm your subscription to Dispatch"
    assert_one_click_headers(received.raw_headers)
    # The one-click link unsubscribes the address that never asked.
    url = re.search(rb"List-Unsubscribe: <([^>]+)>", received.raw_headers).group(1).decode()
    Client(enforce_csrf_checks=True).post(url.removeprefix(LONG_SITE))
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_comment_and_reply_notifications_have_unfolded_one_click_headers(
    wire, ada, rosa, bo, django_capture_on_commit_callbacks
) -> None:
    post = make_post(ada, "Discuss")
    with django_capture_on_commit_callbacks(execute=True):
        comment_as(rosa, post, "First!")
    [to_author] = wire.messages
    assert to_author.recipients == [ada.email] and "commented" in to_author["Subject"]
    assert_one_click_headers(to_author.raw_headers)
    with django_capture_on_commit_callbacks(execute=True):
        comment_as(bo, post, "Second.", reply_to=post.comments.get())
    [to_commenter] = wire.to(rosa.email)
    assert "replied to you" in to_commenter["Subject"]
    assert_one_click_headers(to_commenter.raw_headers)


def test_the_moderation_digest_has_unfolded_one_click_headers(wire, ada, rosa) -> None:
    make_user("milo", role=MODERATORS)
    ModerationSettings.objects.update(hold_first_comment=True)
    comment_as(rosa, make_post(ada, "Held here"), "Please approve me")
    send_moderation_digest.delay()
    [received] = wire.messages
    assert received["Subject"] == "1 comment waiting for moderation on Dispatch"
    assert_one_click_headers(received.raw_headers)


# --- The moderators' digest ----------------------------------------------------


def test_no_digest_when_the_queue_was_cleared_before_it_went_out(ada, rosa) -> None:
    milo = make_user("milo", role=MODERATORS)
    ModerationSettings.objects.update(hold_first_comment=True)
    comment_as(rosa, make_post(ada, "Held here"), "Please approve me")
    held = rosa.comments.get()
    moderation.approve_comment(milo, held)
    send_moderation_digest.delay()
    assert mail.outbox == []


# --- Account e-mails (allauth) ----------------------------------------------------


@pytest.fixture
def ledger(settings):
    settings.SITE_NAME = "The Ledger"
    settings.SITE_URL = "https://ledger.example"


def test_the_verification_email_names_the_site_and_has_an_html_part(
    ledger, client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {"email": "grace@example.com", "username": "grace", "password1": "a-long-pass-phrase",
             "password2": "a-long-pass-phrase"},
        )  # fmt: skip
    [message] = mail.outbox
    assert message.subject == "[The Ledger] Please confirm your email address"
    assert "Hello from The Ledger!" in message.body and "Hello from !" not in message.body
    assert "on ledger.example" in message.body
    link = re.search(r"https://ledger\.example/accounts/confirm-email/\S+/", message.body).group(0)
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'href="{link}"' in html and "Confirm my e-mail address" in html
    assert 'class="brand"' in html and 'style="' in html  # the site's e-mail look, CSS inlined
    assert "127.0.0.1" not in message.body + html
    assert "List-Unsubscribe" not in message.extra_headers  # transactional
    client.post(link.removeprefix("https://ledger.example"))
    assert client.get("/").status_code == 200


def test_the_password_reset_email_names_the_site_and_has_an_html_part(
    ledger, client, django_capture_on_commit_callbacks
) -> None:
    make_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    [message] = mail.outbox
    assert message.subject.startswith("[The Ledger] ")
    assert "Hello from The Ledger!" in message.body and "https://ledger.example" in message.body
    link = re.search(r"https://ledger\.example(/accounts/password/reset/key/\S+/)", message.body).group(1)
    [(html, _)] = message.alternatives
    assert "Choose a new password" in html and 'class="brand"' in html
    assert client.get(link).status_code in (200, 302)


def test_account_emails_without_a_design_of_their_own_show_their_text_in_the_site_look(
    ledger, client, ada, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {"email": ada.email, "username": "someone", "password1": "a-long-pass-phrase",
             "password2": "a-long-pass-phrase"},
        )  # fmt: skip
    [message] = mail.outbox
    assert message.to == [ada.email] and message.subject.startswith("[The Ledger] ")
    assert "Hello from The Ledger!" in message.body
    [(html, _)] = message.alternatives
    assert 'class="brand"' in html and "Hello from The Ledger!" in html
    assert 'href="https://ledger.example/accounts/' in html  # its links are links


def test_an_account_email_queued_before_the_move_to_blog_is_still_sent(ada) -> None:
    """A worker finds the task by the name messages already in the queue carry (it lived in accounts.tasks)."""
    task = celery_app.tasks["accounts.tasks.send_account_email"]
    task.apply(args=("[The Ledger] Confirm", "Confirm your address.", "<p>Confirm</p>", ada.email)).get()
    [message] = mail.outbox
    assert message.to == [ada.email] and message.subject == "[The Ledger] Confirm"


def test_a_prepared_copy_is_the_newsletter_message_on_the_wire(ada, settings) -> None:
    """The fast path (bytes built once per post) says what the slow one says, for every subscriber."""
    settings.EMAIL_REPLY_TO = ["letters@example.com"]
    post = make_post(ada, "Fast and the same", body="Ünïcode, a [link](/p/x/), `code`, and a long line " * 40)
    rendered = emails.render_post(post)
    prepared = emails.prepare_newsletter(rendered)
    for subscriber in make_subscribers(active=2)["active"]:
        message_id = f"<dispatch.delivery.{subscriber.pk}@127.0.0.1>"
        links = emails.subscriber_links(subscriber, post)  # the like link is the subscriber's own too
        fast_wire = prepared.for_subscriber(subscriber.email, links, message_id)
        slow = emails.newsletter_message(rendered, subscriber, message_id, post)
        slow_wire = slow.message(policy=policy.SMTP).as_bytes()
        fast, slow = (message_from_bytes(wire, policy=policy.default) for wire in (fast_wire, slow_wire))
        for header in ["Subject", "From", "To", "Message-ID", "Reply-To", "List-Unsubscribe",
                       "List-Unsubscribe-Post", "List-Id", "Precedence"]:  # fmt: skip
            assert fast[header] == slow[header], header
        fast_parts = [part.get_content() for part in fast.iter_parts()]
        slow_parts = [part.get_content() for part in slow.iter_parts()]
        assert fast_parts == slow_parts
        assert links[emails.UNSUBSCRIBE] in fast_parts[0] and links[emails.PREFERENCES] in fast_parts[1]


def test_subscriber_links_are_the_reversed_addresses_with_each_subscribers_tokens(ada) -> None:
    post = make_post(ada, "Links for everyone")
    links = emails.SubscriberLinks(post)
    for subscriber in make_subscribers(active=2)["active"]:
        token = manage_token(subscriber)
        assert links(subscriber) == {
            emails.UNSUBSCRIBE: absolute(reverse("blog:unsubscribe", args=[token])),
            emails.PREFERENCES: absolute(reverse("blog:subscription_preferences", args=[token])),
            emails.LIKE: absolute(reverse("blog:like_from_email", args=[post.slug, like_token(post, subscriber)])),
        }
        assert emails.SubscriberLinks()(subscriber)[emails.LIKE] == settings.SITE_URL + "/"  # a digest's
