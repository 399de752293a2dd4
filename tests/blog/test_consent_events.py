"""Nobody moves another author's subscribers into their own list, nor learns
from the form or their list who subscribes (issue 22, item 8)."""

import csv
import io

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from blog import models
from blog.models import Ban, Post, Subscriber
from tests.factories import grant, make_post

pytestmark = pytest.mark.django_db

VICTIM = "reader@example.org"


@pytest.fixture
def ada_post(ada) -> Post:
    return make_post(ada, "Ada's post")


@pytest.fixture
def left(ada_post) -> Subscriber:
    """Subscribed from Ada's post, confirmed, and unsubscribed since."""
    return Subscriber.objects.create(
        email=VICTIM, source=f"post-top:{ada_post.slug}", consent_ip="192.0.2.10", status="unsubscribed",
        confirmed_at=timezone.now(), unsubscribed_at=timezone.now(),
    )  # fmt: skip


def own_list(client: Client, author) -> list[str]:
    client.force_login(author)
    text = client.get("/write/subscribers/mine/export.csv").content.decode()
    return [row["email"] for row in csv.DictReader(io.StringIO(text))]


def subscribe(client: Client, email: str, source: str, ip: str = "198.51.100.4"):
    return client.post("/subscribe/", {"email": email, "source": source}, REMOTE_ADDR=ip)


def test_another_authors_form_does_not_move_a_subscriber_to_their_list(client, ada, bo, left) -> None:
    assert own_list(client, ada) == [VICTIM]
    client.logout()
    subscribe(client, VICTIM, "profile:bo")
    kept = Subscriber.objects.get(pk=left.pk)
    assert (kept.source, kept.consent_ip) == (left.source, "192.0.2.10")
    event = models.ConsentEvent.objects.get(subscriber=kept)
    assert (event.kind, event.source, event.ip) == ("requested", "profile:bo", "198.51.100.4")
    assert VICTIM not in own_list(client, bo)
    assert own_list(client, ada) == [VICTIM]


def test_an_authors_list_says_nothing_about_addresses_typed_into_their_own_form(client, bo, left) -> None:
    for address in ["nobody-yet@example.org", VICTIM]:
        subscribe(Client(), address, "profile:bo")
    assert own_list(client, bo) == []
    page = client.get("/write/subscribers/mine/").content.decode()
    assert "nobody-yet" not in page


def test_the_subscribe_answer_is_the_same_whatever_the_address(client, bo, milo, left) -> None:
    Subscriber.objects.create(email="active@example.org", status="active", confirmed_at=timezone.now())
    Subscriber.objects.create(email="bounced@example.org", status="bounced")
    Subscriber.objects.create(email="spam@example.org", status="complained")
    Ban.objects.create(email="banned@example.org", reason="abuse", created_by=milo)
    addresses = [VICTIM, "new@example.org", "active@example.org", "bounced@example.org", "spam@example.org",
                 "banned@example.org"]  # fmt: skip
    for who in (None, bo):
        answers = set()
        for n, address in enumerate(addresses):
            visitor = Client()
            if who is not None:
                visitor.force_login(who)
            cache.clear()  # each answer as a first try: the rate limit is tested elsewhere
            response = subscribe(visitor, address, "home", ip=f"203.0.113.{n}")
            messages = [str(m) for m in response.wsgi_request._messages] if hasattr(response, "wsgi_request") else []
            answers.add((response.status_code, response["Location"], tuple(messages)))
        assert answers == {(302, "/subscribe/check-your-email/", ())}
    assert not Subscriber.objects.filter(email="banned@example.org").exists()


def test_a_subscriber_manager_reads_every_consent_event_in_the_admin(client, sam, left) -> None:
    subscribe(client, VICTIM, "profile:bo")
    client.force_login(grant(sam, "blog.view_subscriber"))
    page = client.get(f"/admin/blog/subscriber/{left.pk}/change/").content.decode()
    assert "profile:bo" in page and "198.51.100.4" in page and "192.0.2.10" in page
