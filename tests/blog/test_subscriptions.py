import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from blog.models import Subscriber
from blog.newsletter.subscriptions import CONFIRM_SALT, confirm_token, manage_token
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribe(client, django_capture_on_commit_callbacks):
    def post(email: str, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/subscribe/", {"email": email, "source": "home", **extra}, REMOTE_ADDR="203.0.113.9")

    return post


def confirm_link(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/subscribe/confirm/\S+/)", message.body).group(1)


def test_double_opt_in_from_form_to_confirmed(client, subscribe) -> None:
    response = subscribe("Grace@Example.com")
    assert response.status_code == 302 and response.url == "/subscribe/check-your-email/"
    subscriber = Subscriber.objects.get()
    assert (subscriber.status, subscriber.source, subscriber.consent_ip) == ("pending", "home", "203.0.113.9")
    [message] = mail.outbox
    assert message.to == ["Grace@Example.com"]
    assert message.subject == "Confirm your subscription to Dispatch"
    link = confirm_link(message)
    page = client.get(link)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and "Yes, subscribe me" in page.content.decode()
    assert Subscriber.objects.get().status == "pending"
    client.post(link)
    subscriber.refresh_from_db()
    assert subscriber.status == "active" and subscriber.confirmed_at is not None


def test_the_answer_is_the_same_whoever_the_address_belongs_to(client, subscribe) -> None:
    Subscriber.objects.create(email="active@example.com", status="active")
    Subscriber.objects.create(email="gone@example.com", status="unsubscribed")
    Subscriber.objects.create(email="waiting@example.com", status="pending", confirmation_sent_at=timezone.now())
    answers = {
        subscribe(email).url
        for email in ["new@example.com", "active@example.com", "gone@example.com", "waiting@example.com"]
    }
    assert answers == {"/subscribe/check-your-email/"}


def test_a_pending_address_gets_one_confirmation_a_day(subscribe) -> None:
    subscribe("grace@example.com")
    subscribe("GRACE@example.com")
    assert len(mail.outbox) == 1 and Subscriber.objects.count() == 1
    Subscriber.objects.update(confirmation_sent_at=timezone.now() - timedelta(days=1, minutes=1))
    subscribe("grace@example.com")
    assert len(mail.outbox) == 2


def test_an_active_subscriber_is_not_mailed_again(subscribe) -> None:
    Subscriber.objects.create(email="active@example.com", status="active")
    subscribe("active@example.com")
    assert mail.outbox == []


def test_the_honeypot_swallows_bots(subscribe) -> None:
    response = subscribe("bot@example.com", website="http://spam.example")
    assert response.url == "/subscribe/check-your-email/"
    assert not Subscriber.objects.exists() and mail.outbox == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your e-mail address."),
        ("not-an-address", "Enter a valid email address."),
        ("a@b", "Enter a valid email address."),
        ("x" * 250 + "@example.com", "Ensure this value has at most 254 characters"),
    ],
)
def test_a_bad_address_is_refused_with_a_message(client, email, message) -> None:
    response = client.post("/subscribe/", {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscriber.objects.exists()


def test_subscribing_is_rate_limited(subscribe) -> None:
    statuses = [subscribe(f"person{i}@example.com").status_code for i in range(6)]
    assert statuses == [302] * 5 + [429]
    assert Subscriber.objects.count() == 5


def test_subscribe_refuses_get(client) -> None:
    assert client.get("/subscribe/").status_code == 405


def test_a_signed_in_reader_subscribes_in_one_click(client, django_capture_on_commit_callbacks) -> None:
    rosa = make_user("rosa")
    client.force_login(rosa)
    page = client.get("/").content.decode()
    assert "Subscribe as rosa@example.com" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/subscribe/", {"source": "home", "next": "/"})
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status, subscriber.user) == ("rosa@example.com", "active", rosa)
    assert mail.outbox == []
    assert "You're subscribed." in client.get("/").content.decode()


def test_a_tampered_confirmation_link_is_refused(client, subscribe) -> None:
    subscribe("grace@example.com")
    link = confirm_link(mail.outbox[0])
    changed = "y" if link[-3] == "x" else "x"  # the signature must really differ
    response = client.post(link[:-3] + changed + link[-2:])
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert Subscriber.objects.get().status == "pending"


def test_an_expired_confirmation_link_is_refused(client, subscribe, monkeypatch) -> None:
    subscribe("grace@example.com")
    subscriber = Subscriber.objects.get()
    eight_days_ago = timezone.now().timestamp() - 8 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: eight_days_ago)
    token = signing.dumps([subscriber.pk, subscriber.email], salt=CONFIRM_SALT)
    monkeypatch.undo()
    response = client.post(f"/subscribe/confirm/{token}/")
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert Subscriber.objects.get().status == "pending"
    assert client.get(f"/subscribe/confirm/{confirm_token(subscriber)}/").status_code == 200


def test_one_click_unsubscribe_needs_no_cookie_or_csrf_token() -> None:
    subscriber = Subscriber.objects.create(email="grace@example.com", status="active")
    provider = Client(enforce_csrf_checks=True)
    url = f"/unsubscribe/{manage_token(subscriber)}/"
    for _ in range(2):  # repeated by the provider: still 200, never a redirect
        response = provider.post(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed" and subscriber.unsubscribed_at is not None


def test_unsubscribe_link_shows_a_button_and_changes_nothing_on_get(client) -> None:
    subscriber = Subscriber.objects.create(email="grace@example.com", status="active")
    page = client.get(f"/unsubscribe/{manage_token(subscriber)}/")
    assert page.status_code == 200 and "<button" in page.content.decode()
    assert Subscriber.objects.get().status == "active"


def test_a_tampered_unsubscribe_link_is_refused(client) -> None:
    subscriber = Subscriber.objects.create(email="grace@example.com", status="active")
    other = Subscriber.objects.create(email="other@example.com", status="active")
    forged = manage_token(subscriber).replace(str(subscriber.pk), str(other.pk), 1)
    assert client.post(f"/unsubscribe/{forged}/").status_code == 400
    assert set(Subscriber.objects.values_list("status", flat=True)) == {"active"}


def test_preferences_by_signed_link(client) -> None:
    subscriber = Subscriber.objects.create(email="grace@example.com", status="active")
    url = f"/subscription/{manage_token(subscriber)}/"
    response = client.post(
        url, {"frequency": "weekly", "digest_hour": "7", "digest_weekday": "4", "timezone": "Europe/Paris"}
    )
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert (subscriber.frequency, subscriber.digest_hour, subscriber.digest_weekday, subscriber.timezone) == (
        "weekly", 7, 4, "Europe/Paris",
    )  # fmt: skip


def test_preferences_refuse_bad_values_and_keep_the_old_ones(client) -> None:
    subscriber = Subscriber.objects.create(email="grace@example.com", status="active")
    url = f"/subscription/{manage_token(subscriber)}/"
    response = client.post(
        url, {"frequency": "hourly", "digest_hour": "25", "digest_weekday": "0", "timezone": "Mars/Base"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    subscriber.refresh_from_db()
    assert (subscriber.frequency, subscriber.timezone) == ("post", "UTC")


def test_preferences_from_account_settings(client) -> None:
    rosa = make_user("rosa")
    Subscriber.objects.create(email="rosa@example.com", status="active")
    assert client.get("/settings/subscription/").status_code == 302
    client.force_login(rosa)
    client.post(
        "/settings/subscription/", {"frequency": "daily", "digest_hour": "6", "digest_weekday": "0", "timezone": "UTC"}
    )
    assert Subscriber.objects.get().frequency == "daily"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("post-bottom:a-post", "post-bottom:a-post"),
        ("profile:ada", "profile:ada"),
        ('=HYPERLINK("http://evil.example","Click")', "site"),
        ("home; DROP", "site"),
        ("", "site"),
    ],
)
def test_the_source_is_kept_only_when_it_is_one_of_our_forms(subscribe, sent, kept) -> None:
    subscribe("grace@example.com", source=sent)
    assert Subscriber.objects.get().source == kept


def test_the_address_that_confirms_is_kept_with_the_consent(client, subscribe) -> None:
    subscribe("grace@example.com")
    client.post(confirm_link(mail.outbox[0]), REMOTE_ADDR="198.51.100.4")
    subscriber = Subscriber.objects.get()
    assert (subscriber.consent_ip, subscriber.confirmed_ip) == ("203.0.113.9", "198.51.100.4")


@pytest.mark.parametrize("left_as", ["unsubscribed", "bounced"])
def test_an_old_confirmation_link_does_not_bring_back_an_address_that_left(client, subscribe, left_as) -> None:
    subscribe("grace@example.com")
    link = confirm_link(mail.outbox[0])
    client.post(link)
    Subscriber.objects.update(status=left_as)
    response = client.post(link)
    assert response.status_code == 400 and "no longer valid" in response.content.decode()
    assert Subscriber.objects.get().status == left_as


def test_only_the_newest_confirmation_link_confirms(client, subscribe) -> None:
    subscribe("grace@example.com")
    old = confirm_link(mail.outbox[0])
    Subscriber.objects.update(status="unsubscribed")
    subscribe("grace@example.com")  # asked again: a new link
    new = confirm_link(mail.outbox[1])
    assert client.post(old).status_code == 400
    assert Subscriber.objects.get().status == "pending"
    client.post(new)
    assert Subscriber.objects.get().status == "active"
