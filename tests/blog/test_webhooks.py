"""Webhooks out, against a real HTTP receiver on 127.0.0.1 that checks each
signature the way docs/api.md tells receivers to: the round trip, retries
while it answers 500, switching off after the limit with an e-mail to the
owner, the desk's pages and buttons, and refusing private targets."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from blog.models import Subscriber, Webhook, WebhookDelivery
from tests.factories import grant, make_post, make_user, publish


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does (the ten lines of docs/api.md)."""
    msg_id, ts, signatures = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
    if abs(time.time() - int(ts)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, sig.partition(",")[2]) for sig in signatures.split())


@dataclass
class Receiver:
    """Answers each POST with the next status of `answers` (then the last one), and keeps what came."""

    url: str = ""
    answers: list[int] = field(default_factory=lambda: [200])
    received: list[dict] = field(default_factory=list)
    secret: str = ""

    def answer(self) -> int:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append({
                "headers": headers, "body": json.loads(body), "path": self.path,
                "valid": verify(state.secret, headers, body) if state.secret else None,
            })  # fmt: skip
            self.send_response(state.answer())
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits out one poll: 0.05 s, not the default 0.5 s, after every test
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/dispatch"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def owner(db):
    """Runs the publication's integrations."""
    return grant(make_user("olga"), "blog.manage_integrations")


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # only tests and local development may
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 5


def register(client, owner, url: str, events: list[str]) -> Webhook:
    client.force_login(owner)
    response = client.post("/write/integrations/webhooks/", {"url": url, "events": events})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Webhook.objects.get(url=url)


def test_a_published_post_reaches_the_receiver_signed(
    client, owner, ada, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    hook = register(client, owner, receiver.url, ["post.published", "post.unpublished"])
    receiver.secret = hook.secret
    post = make_post(ada, "Out today", status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        publish(post)
    [call] = receiver.received
    assert call["valid"] is True
    assert call["path"] == "/hooks/dispatch"
    assert call["body"]["type"] == "post.published"
    assert call["body"]["data"]["post"]["title"] == "Out today"
    assert call["headers"]["webhook-id"].startswith("msg_")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)
    assert delivery.message_id == call["headers"]["webhook-id"]


def test_a_tampered_body_fails_the_receivers_check(owner, client, receiver, loopback_allowed) -> None:
    hook = register(client, owner, receiver.url, ["post.published"])
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time()))}
    from blog.integrations.webhooks import sign

    headers["webhook-signature"] = sign(hook.secret, "msg_1", int(headers["webhook-timestamp"]), '{"a":1}')
    assert verify(hook.secret, headers, b'{"a":1}')
    assert not verify(hook.secret, headers, b'{"a":2}')
    assert not verify("whsec_" + base64.b64encode(b"another secret of 24 byte").decode(), headers, b'{"a":1}')


def test_events_a_hook_did_not_choose_are_not_sent(
    client, owner, ada, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    register(client, owner, receiver.url, ["comment.approved"])
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_post(ada, status="draft"))
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_receiver_answering_500_is_retried_with_the_same_id_until_it_succeeds(
    client, owner, ada, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    hook = register(client, owner, receiver.url, ["post.published"])
    receiver.secret, receiver.answers = hook.secret, [500, 500, 200]
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_post(ada, status="draft"))
    assert len(receiver.received) == 3
    assert all(call["valid"] for call in receiver.received)
    assert len({call["headers"]["webhook-id"] for call in receiver.received}) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 3, 200)
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 0


def test_the_retry_countdowns_are_short_and_grow(settings) -> None:
    from blog.integrations.webhooks import retry_delay

    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 10, 600
    assert [retry_delay(n) for n in (1, 2, 3, 8)] == [10, 20, 40, 600]


def test_a_hook_that_keeps_failing_is_switched_off_and_its_owner_told(
    client, owner, ada, receiver, loopback_allowed, django_capture_on_commit_callbacks, settings
) -> None:
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 4
    hook = register(client, owner, receiver.url, ["post.published"])
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_post(ada, "First", status="draft"))  # three attempts, all 500: failed
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_post(ada, "Second", status="draft"))  # the fourth failure in a row switches it off
    assert len(receiver.received) == 4
    hook.refresh_from_db()
    assert not hook.is_active
    assert "4 failed attempts in a row" in hook.disabled_reason
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert receiver.url in message.body and "switched off" in message.subject
    statuses = list(WebhookDelivery.objects.order_by("pk").values_list("status", "attempts"))
    assert statuses == [("failed", 3), ("failed", 1)]
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_post(ada, "Third", status="draft"))
    assert len(receiver.received) == 4  # nothing more goes to a switched-off hook


def test_a_receiver_answering_410_switches_the_hook_off_at_once(
    client, owner, ada, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    hook = register(client, owner, receiver.url, ["post.published"])
    receiver.answers = [410]
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_post(ada, status="draft"))
    assert len(receiver.received) == 1
    hook.refresh_from_db()
    assert not hook.is_active and "410" in hook.disabled_reason


def test_the_owner_switches_a_hook_back_on(client, owner, receiver, loopback_allowed) -> None:
    hook = register(client, owner, receiver.url, ["post.published"])
    Webhook.objects.filter(pk=hook.pk).update(is_active=False, consecutive_failures=9, disabled_reason="x")
    assert client.post(f"/write/integrations/webhooks/{hook.pk}/enable/").status_code == 302
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 0


def test_send_test_reaches_the_receiver_and_shows_in_the_log(
    client, owner, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    hook = register(client, owner, receiver.url, ["post.published"])
    receiver.secret, receiver.answers = hook.secret, [201]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/write/integrations/webhooks/{hook.pk}/test/")
    assert response.status_code == 302
    [call] = receiver.received
    assert call["valid"] and call["body"]["type"] == "webhook.test"
    page = client.get(f"/write/integrations/webhooks/{hook.pk}/").content.decode()
    assert "webhook.test" in page and "201" in page and hook.secret in page


def test_subscriber_and_comment_events_are_sent(
    client, owner, ada, rosa, milo, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    from tests.factories import relax_moderation, say

    events = ["subscriber.added", "subscriber.unsubscribed", "comment.posted", "comment.approved", "post.liked"]
    register(client, owner, receiver.url, events)
    relax_moderation(hold_first_comment=True)
    post = make_post(ada)
    with django_capture_on_commit_callbacks(execute=True):
        client.logout()
        client.post("/subscribe/", {"email": "new@example.com", "source": "home"})
        from blog.newsletter.subscriptions import unsubscribe

        unsubscribe(Subscriber.objects.get(email="new@example.com"))
        client.force_login(rosa)
        say(client, post, "A first comment, held.")
        client.post(f"/p/{post.slug}/like/", {"liked": "1"})
        client.force_login(milo)
        comment = post.comments.get()
        client.post("/moderation/", {"action": "approve", "ids": [comment.pk]})
    types = [call["body"]["type"] for call in receiver.received]
    assert types[:3] == ["subscriber.added", "subscriber.unsubscribed", "comment.posted"]
    assert "post.liked" in types
    assert types[-1] == "comment.approved"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/", "http://localhost/hook", "http://10.1.2.3/", "ftp://x.example/"]
)
def test_private_loopback_and_odd_targets_are_refused(client, owner, url) -> None:
    client.force_login(owner)
    response = client.post("/write/integrations/webhooks/", {"url": url, "events": ["post.published"]})
    assert response.status_code == 400
    assert not Webhook.objects.exists()


def test_a_name_that_comes_to_resolve_privately_is_refused_at_send_time(
    client, owner, ada, receiver, loopback_allowed, settings, django_capture_on_commit_callbacks
) -> None:
    register(client, owner, receiver.url, ["post.published"])
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_post(ada, status="draft"))
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert "private or local address" in delivery.error


def test_the_webhook_pages_need_the_permission(client, rosa, ada) -> None:
    for user in (rosa, ada):
        client.force_login(user)
        assert client.get("/write/integrations/webhooks/").status_code == 403
        assert client.post("/write/integrations/webhooks/", {"url": "https://example.com/"}).status_code == 403
    client.logout()
    assert client.get("/write/integrations/webhooks/").status_code == 302


def test_webhook_buttons_refuse_get(client, owner, receiver, loopback_allowed) -> None:
    hook = register(client, owner, receiver.url, ["post.published"])
    for action in ("test", "enable", "delete"):
        assert client.get(f"/write/integrations/webhooks/{hook.pk}/{action}/").status_code == 405


def test_a_hook_without_events_is_refused(client, owner) -> None:
    client.force_login(owner)
    response = client.post("/write/integrations/webhooks/", {"url": "https://example.com/hook"})
    assert response.status_code == 400
    assert "Choose at least one event." in response.content.decode()
    assert not Webhook.objects.exists()


def test_post_updates_unpublishing_confirmations_and_restacks_are_sent(
    client, owner, ada, rosa, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    from blog.integrations import apikeys
    from blog.newsletter.subscriptions import confirm

    events = ["post.updated", "post.unpublished", "subscriber.confirmed", "post.restacked"]
    hook = register(client, owner, receiver.url, events)
    receiver.secret = hook.secret
    post = make_post(ada, "Live one")
    key = apikeys.create_key(ada, "Tool", ["write_posts"]).secret
    auth = {"Authorization": f"Bearer {key}"}
    pending = Subscriber.objects.create(email="waiting@example.com", status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"/api/v1/posts/{post.pk}", {"title": "Live one, corrected"}, content_type="application/json",
                     headers=auth)  # fmt: skip
        client.post(f"/api/v1/posts/{post.pk}/unpublish", headers=auth)
        confirm(pending)
        other = make_post(ada, "Worth sharing")
        client.force_login(rosa)
        client.post(f"/p/{other.slug}/restack/", {"note": ""})
    types = [call["body"]["type"] for call in receiver.received]
    assert types == ["post.updated", "post.unpublished", "subscriber.confirmed", "post.restacked"]
    assert receiver.received[0]["body"]["data"]["post"]["title"] == "Live one, corrected"
    assert all(call["valid"] for call in receiver.received)


def test_a_delivery_whose_task_was_lost_is_sent_again_by_the_sweep(
    client, owner, ada, receiver, loopback_allowed, django_capture_on_commit_callbacks
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from blog.tasks import requeue_stuck_webhooks

    hook = register(client, owner, receiver.url, ["post.published"])
    receiver.secret = hook.secret
    publish(make_post(ada, status="draft"))  # committed, but its task never ran (no on_commit here)
    fresh = WebhookDelivery.objects.get()
    assert requeue_stuck_webhooks() == 0  # not overdue yet
    WebhookDelivery.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stuck_webhooks() == 1
    [call] = receiver.received
    assert call["valid"] and call["headers"]["webhook-id"] == fresh.message_id
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert requeue_stuck_webhooks() == 0
