"""Sending in-process (Celery eager) to the real SMTP sink; the worker-based
runs are in tests/integration/test_fanout.py."""

import email.policy
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.core import mail
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Delivery, Digest, Post, Send, Subscriber
from blog.newsletter import clicks, delivery, smtpwire
from blog.newsletter.subscriptions import manage_token
from blog.posts.publishing import publish_post
from tests import factories
from tests.factories import make_post, make_subscribers

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish(ada, django_capture_on_commit_callbacks):
    def go(title: str = "Going out") -> Post:
        post = make_post(ada, title, status=Post.Status.DRAFT, body="Hello ![map](/media/map.png) and [^1]\n\n[^1]: x")
        with django_capture_on_commit_callbacks(execute=True):
            factories.publish(post)
        return post

    return go


def test_publishing_mails_each_active_each_post_subscriber_once(publish) -> None:
    made = make_subscribers(active=3, pending=1, unsubscribed=1, bounced=1, active_daily=1)
    post = publish()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in made["active"])
    assert Send.objects.get(post=post).status == "done"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_the_email_has_unsubscribe_headers_links_and_the_whole_post(publish, settings) -> None:
    [subscriber] = make_subscribers(active=1)["active"]
    post = publish("Headers matter")
    [message] = mail.outbox
    token = manage_token(subscriber)
    assert message.subject == "Headers matter"
    assert message.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000/unsubscribe/{token}/>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"] == f"<dispatch.delivery.{Delivery.objects.get().pk}@127.0.0.1>"
    html = message.alternatives[0].content
    assert 'src="http://127.0.0.1:8000/media/map.png"' in html  # absolute image URLs
    # Links go through the click counter (tests/blog/test_clicks.py), unsubscribing does not.
    assert f'href="{clicks.click_url(post, "http://127.0.0.1:8000/p/headers-matter/#comments")}"' in html
    assert f"http://127.0.0.1:8000/subscription/{token}/" in html
    assert settings.POSTAL_ADDRESS in html and settings.POSTAL_ADDRESS in message.body
    assert 'style="' in html  # CSS inlined for mail clients
    assert f"Unsubscribe: http://127.0.0.1:8000/unsubscribe/{token}/" in message.body
    # On the wire too: a long URL must not be folded into encoded words.
    wire = message.message(policy=email.policy.SMTP).as_bytes()
    assert f"List-Unsubscribe: <http://127.0.0.1:8000/unsubscribe/{token}/>\r\n".encode() in wire


def test_publishing_twice_sends_once(publish, ada, django_capture_on_commit_callbacks) -> None:
    make_subscribers(active=2)
    post = publish()
    with django_capture_on_commit_callbacks(execute=True):
        publish_post(post)
        delivery.create_send(post)
    assert len(mail.outbox) == 2


def test_someone_who_unsubscribes_after_queueing_gets_nothing(ada) -> None:
    made = make_subscribers(active=2)
    post = make_post(ada)
    send = delivery.create_send(post)
    Subscriber.objects.filter(pk=made["active"][0].pk).update(status="unsubscribed")
    delivery.send_deliveries([d.pk for d in send.deliveries.all()])
    assert [m.to[0] for m in mail.outbox] == [made["active"][1].email]
    assert send.deliveries.get(subscriber=made["active"][0]).status == "skipped"


def test_a_delivery_claimed_elsewhere_is_not_sent_again(ada) -> None:
    make_subscribers(active=1)
    send = delivery.create_send(make_post(ada))
    Delivery.objects.update(status="sending")  # another worker has it
    delivery.send_deliveries(list(send.deliveries.values_list("pk", flat=True)))
    assert mail.outbox == []


def test_a_batch_costs_one_update_a_message_and_a_kill_repeats_at_most_one(ada, monkeypatch) -> None:
    made = make_subscribers(active=20)["active"]
    send = delivery.create_send(make_post(ada))
    ids = list(send.deliveries.order_by("pk").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        delivery.send_deliveries(ids)
    updates = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(('UPDATE "BLOG_DELIVERY"', "UPDATE BLOG_DELIVERY"))
    ]
    assert len(updates) == 20 + 2  # a claim (and the mark of the one before) each, the last mark, skip_inactive
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in made)
    assert set(send.deliveries.values_list("status", flat=True)) == {"sent"}

    # A worker killed while sending whole messages (an HTTP provider, here locmem): what it sent before
    # is marked, only the message in flight is not (the SMTP path: tests/integration/test_fanout.py).
    mail.outbox.clear()
    second = delivery.create_send(make_post(ada, "Another"))
    ids = list(second.deliveries.order_by("pk").values_list("pk", flat=True))
    calls = {"n": 0}

    def die_on_the_fifth(*args: object) -> bool:
        calls["n"] += 1
        if calls["n"] == 5:
            raise SystemExit("killed")
        return False  # sent whole

    monkeypatch.setattr(smtpwire.Sender, "begin", lambda self, *args: die_on_the_fifth(*args))
    with pytest.raises(SystemExit):
        delivery.send_deliveries(ids)
    statuses = list(second.deliveries.order_by("pk").values_list("status", flat=True))
    assert statuses[:4] == ["sent"] * 4 and statuses[4] == "sending" and set(statuses[5:]) == {"queued"}


def test_stuck_deliveries_are_requeued_and_repeat_offenders_parked(ada, settings) -> None:
    settings.DELIVERY_STUCK_AFTER_SECONDS = 60
    make_subscribers(active=3)
    send = delivery.create_send(make_post(ada))
    old = timezone.now() - timedelta(minutes=5)
    first, second, third = send.deliveries.order_by("pk")
    Delivery.objects.filter(pk=first.pk).update(status="sending", claimed_at=old, attempts=1)
    Delivery.objects.filter(pk=second.pk).update(
        status="sending", claimed_at=old, attempts=settings.DELIVERY_MAX_ATTEMPTS
    )
    Delivery.objects.filter(pk=third.pk).update(status="sending", claimed_at=timezone.now(), attempts=1)
    assert delivery.requeue_stuck_deliveries() == [first.pk]
    assert Delivery.objects.get(pk=first.pk).status == "queued"
    assert Delivery.objects.get(pk=second.pk).status == "failed"
    assert Delivery.objects.get(pk=third.pk).status == "sending"


# --- Refusals, against the real SMTP sink ---------------------------------


@pytest.fixture
def to_sink(settings, smtp_sink):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp_sink.host, "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


def test_a_hard_bounce_fails_once_and_suppresses_the_address(publish, to_sink) -> None:
    made = make_subscribers(active=3)
    bad = made["active"][1].email
    to_sink.reply = lambda sender, rcpts: "550 5.1.1 No such user" if bad in rcpts else None
    publish()
    failed = Delivery.objects.get(subscriber__email=bad)
    assert (failed.status, failed.attempts, failed.sent_at) == ("failed", 1, None)  # refused after the dot
    assert failed.error.startswith("550")
    assert Subscriber.objects.get(email=bad).status == "bounced"
    assert len(to_sink.messages) == 2


def test_temporary_refusals_are_retried_until_delivered(publish, to_sink, settings) -> None:
    make_subscribers(active=2)
    refusals = {"left": 2}

    def flaky(sender, rcpts):
        if refusals["left"]:
            refusals["left"] -= 1
            return "451 4.3.0 Try again later"
        return None

    to_sink.reply = flaky
    publish()
    assert sorted(m.recipients[0] for m in to_sink.messages) == ["active0@example.com", "active1@example.com"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_endless_temporary_refusals_give_up_with_the_reason(publish, to_sink, settings) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 3
    make_subscribers(active=1)
    to_sink.reply = lambda sender, rcpts: "452 4.2.2 Mailbox full"
    publish()
    failed = Delivery.objects.get()
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "gave up after 3 temporary failures: 452" in failed.error
    assert Subscriber.objects.get().status == "active"  # a full mailbox is not a bounce


def test_a_send_with_many_failures_pauses_and_says_why(publish, to_sink, settings) -> None:
    settings.SEND_PAUSE_AFTER_FAILURES = 2
    make_subscribers(active=3)
    to_sink.reply = lambda sender, rcpts: "554 5.7.1 Relay denied"
    post = publish()
    send = Send.objects.get(post=post)
    assert send.status == "paused" and "Paused after" in send.paused_reason


@pytest.mark.parametrize(
    ("stuck_after", "sent_at_each_dot"),
    [(300, lambda n: n), (0, lambda n: n + 1)],  # a young claim: dot, then mark; an old one: mark, then dot
)
def test_over_smtp_a_row_is_marked_sent_next_to_its_final_dot(
    ada, to_sink, monkeypatch, settings, stuck_after, sent_at_each_dot
) -> None:
    settings.DELIVERY_STUCK_AFTER_SECONDS = stuck_after
    made = make_subscribers(active=5)["active"]
    send = delivery.create_send(make_post(ada))
    at_the_dot = []
    real_write_dot = smtpwire.Sender.write_dot

    def write_dot(self) -> None:
        at_the_dot.append((len(to_sink.messages), list(send.deliveries.values_list("status", flat=True))))
        real_write_dot(self)

    monkeypatch.setattr(smtpwire.Sender, "write_dot", write_dot)
    with CaptureQueriesContext(connection) as queries:
        delivery.send_deliveries(list(send.deliveries.values_list("pk", flat=True)))
    # Before the n-th dot the server has n-1 messages; n-1 rows are sent (or n, the mark gone first).
    assert [(n, statuses.count("sent")) for n, statuses in at_the_dot] == [(n, sent_at_each_dot(n)) for n in range(5)]
    assert sorted(m.recipients[0] for m in to_sink.messages) == sorted(s.email for s in made)
    assert set(send.deliveries.values_list("status", flat=True)) == {"sent"}
    updates = [q for q in queries if q["sql"].lstrip().upper().startswith('UPDATE "BLOG_DELIVERY"')]
    assert len(updates) == 5 + 2  # still one statement a message, the last mark alone, skip_inactive


def test_a_row_taken_over_mid_send_makes_this_worker_drop_its_copy(ada, to_sink, monkeypatch, settings) -> None:
    settings.DELIVERY_STUCK_AFTER_SECONDS = 0  # this worker's claims are as old as the sweep's delay: mark first
    made = make_subscribers(active=4)["active"]
    send = delivery.create_send(make_post(ada))
    second = send.deliveries.order_by("pk")[1]
    real_begin = smtpwire.Sender.begin

    def begin(self, claimed: Delivery, rendering) -> bool:
        held = real_begin(self, claimed, rendering)
        if claimed.pk == second.pk:  # stalled here long enough to be swept, and claimed by another worker
            Delivery.objects.filter(pk=second.pk).update(claimed_at=timezone.now() + timedelta(seconds=1))
        return held

    monkeypatch.setattr(smtpwire.Sender, "begin", begin)
    delivery.send_deliveries(list(send.deliveries.values_list("pk", flat=True)))
    # The server never got this worker's copy: the connection was dropped before its final dot,
    # and the rest of the batch went out over a new one.
    assert second.subscriber.email not in [m.recipients[0] for m in to_sink.messages]
    assert sorted(m.recipients[0] for m in to_sink.messages) == sorted(s.email for s in made if s != second.subscriber)
    assert Delivery.objects.get(pk=second.pk).status == "sending"  # the other worker's, untouched

    Delivery.objects.filter(pk=second.pk).update(status="queued")  # the other worker, seen from here
    monkeypatch.setattr(smtpwire.Sender, "begin", real_begin)
    delivery.send_deliveries([second.pk])
    assert sorted(m.recipients[0] for m in to_sink.messages) == sorted(s.email for s in made)


def test_a_refusal_after_the_final_dot_puts_the_row_back(ada, to_sink) -> None:
    make_subscribers(active=1)
    send = delivery.create_send(make_post(ada))
    to_sink.reply = lambda sender, rcpts: "451 4.3.0 Try again later"  # the answer to the final dot
    [retry] = delivery.send_deliveries(list(send.deliveries.values_list("pk", flat=True)))
    row = send.deliveries.get()
    assert (row.status, row.sent_at, row.attempts, retry.delivery_ids) == ("queued", None, 1, [row.pk])
    assert row.error.startswith("451")
    assert to_sink.messages == []


@pytest.mark.parametrize("stuck_after", [300, 0])  # a young claim (dot, then mark) and an old one (mark, then dot)
def test_no_answer_to_the_final_dot_leaves_the_row_sent_and_the_rest_goes_later(
    ada, to_sink, settings, stuck_after
) -> None:
    settings.DELIVERY_STUCK_AFTER_SECONDS = stuck_after
    settings.MAILERS["default"]["OPTIONS"]["timeout"] = 0.5
    make_subscribers(active=3)
    send = delivery.create_send(make_post(ada))
    rows = list(send.deliveries.order_by("pk").select_related("subscriber"))
    readers = [row.subscriber.email for row in rows]
    to_sink.silent = lambda sender, rcpts: readers[0] in rcpts  # keeps the first message, never answers its dot

    [retry] = delivery.send_deliveries([row.pk for row in rows])
    first = Delivery.objects.get(pk=rows[0].pk)
    assert first.status == "sent"  # the server read the dot: counting it unsent would repeat it
    assert first.error.startswith("sent; no answer to the final dot")
    assert [m.recipients[0] for m in to_sink.messages] == readers[:1]
    assert set(send.deliveries.exclude(pk=first.pk).values_list("status", flat=True)) == {"queued"}

    delivery.send_deliveries(retry.delivery_ids)  # the later task
    assert sorted(m.recipients[0] for m in to_sink.messages) == sorted(readers)  # nobody twice
    assert set(send.deliveries.values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize(
    ("stuck_after", "failures", "copies"),
    [
        (300, 1, 1),  # a young claim's dot went first; its mark, tried again as the batch stops, takes
        (300, 2, 2),  # ... or fails again: the row stays "sending" and the sweep sends the message again
        (0, 1, 2),  # an old claim: its mark's outcome unknown, the dot is written anyway; again after the sweep
    ],
)
def test_a_database_error_at_the_mark_stops_the_batch_and_misses_no_one(
    ada, to_sink, settings, stuck_after, failures, copies
) -> None:
    settings.DELIVERY_STUCK_AFTER_SECONDS = stuck_after
    make_subscribers(active=4)
    send = delivery.create_send(make_post(ada))
    rows = list(send.deliveries.order_by("pk").select_related("subscriber"))
    ids, readers = [row.pk for row in rows], [row.subscriber.email for row in rows]
    left = {"failures": failures}

    def database_down_at_the_mark(execute, sql, params, many, context):
        if isinstance(params, dict) and params.get("mark") == ids[1] and left["failures"]:
            left["failures"] -= 1
            raise DatabaseError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_down_at_the_mark), pytest.raises(DatabaseError):
        delivery.send_deliveries(ids)
    assert [m.recipients[0] for m in to_sink.messages] == readers[:2]  # the second's dot went all the same
    deadline = time.monotonic() + 5
    while to_sink.quits < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert to_sink.quits == 1  # the SMTP connection was closed, not left open
    statuses = list(send.deliveries.order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent", "sent" if copies == 1 else "sending", "queued", "queued"]

    delivery.requeue_stuck_deliveries(now=timezone.now() + timedelta(seconds=stuck_after + 1))  # beat's sweep
    delivery.send_deliveries(ids)  # and the task it queues
    assert Counter(m.recipients[0] for m in to_sink.messages) == Counter([*readers, *[readers[1]] * (copies - 1)])
    assert set(send.deliveries.values_list("status", flat=True)) == {"sent"}


# --- Digests -----------------------------------------------------------------


def at(hour: int, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, 5, tzinfo=UTC)  # 25 Nov 2026 is a Wednesday


def test_daily_digest_at_the_chosen_hour_with_the_new_posts(ada) -> None:
    reader = Subscriber.objects.create(
        email="daily@example.com", status="active", frequency="daily", digest_hour=8, confirmed_at=at(0, 24)
    )
    old = make_post(ada, "Before subscribing", published_at=at(0, 20))
    new = make_post(ada, "Fresh", published_at=at(6))
    assert delivery.create_due_digests(now=at(7)) == []  # not their hour yet
    [delivery_id] = delivery.create_due_digests(now=at(8))
    digest = Digest.objects.get()
    assert list(digest.posts.all()) == [new] and old not in digest.posts.all()
    assert delivery.create_due_digests(now=at(9)) == []  # one digest per day
    delivery.send_deliveries([delivery_id])
    [message] = mail.outbox
    assert message.to == [reader.email]
    assert message.subject == "Your daily digest from Dispatch: Fresh"
    assert "List-Unsubscribe" in message.extra_headers


def test_weekly_digest_on_its_day_and_time_zone(ada) -> None:
    Subscriber.objects.create(
        email="weekly@example.com", status="active", frequency="weekly", digest_hour=9, digest_weekday=2,
        timezone="America/New_York", confirmed_at=at(0, 10),
    )  # fmt: skip
    make_post(ada, "One", published_at=at(1, 20))
    make_post(ada, "Two", published_at=at(1, 23))
    assert delivery.create_due_digests(now=at(13)) == []  # 08:05 in New York
    assert len(delivery.create_due_digests(now=at(14))) == 1  # 09:05 in New York, Wednesday
    assert Digest.objects.get().posts.count() == 2
    assert Digest.objects.get().period == "weekly:2026-W48"


def test_no_digest_when_nothing_was_published(ada) -> None:
    Subscriber.objects.create(email="daily@example.com", status="active", frequency="daily", confirmed_at=at(0, 24))
    assert delivery.create_due_digests(now=at(10)) == []
    assert not Digest.objects.exists()


def test_digests_skip_people_who_unsubscribed_while_it_was_built(ada) -> None:
    reader = Subscriber.objects.create(
        email="daily@example.com", status="active", frequency="daily", confirmed_at=at(0, 24)
    )
    make_post(ada, "Fresh", published_at=at(6))
    ids = delivery.create_due_digests(now=at(10))
    Subscriber.objects.filter(pk=reader.pk).update(status="unsubscribed")
    delivery.send_deliveries(ids)
    assert mail.outbox == []


class RefusingProvider(AnymailTestBackend):
    """anymail's test backend, answering as a provider does for an address on its suppression list."""

    refused = ""

    def post_to_esp(self, payload, message):
        response = super().post_to_esp(payload, message)
        for address, status in response["recipient_status"].items():
            if address == self.refused:
                status.status = "rejected"
        return response


def test_a_provider_refusing_an_address_over_http_suppresses_it_like_a_550(publish, settings) -> None:
    made = make_subscribers(active=3)
    RefusingProvider.refused = made["active"][0].email
    settings.MAILERS = {"default": {"BACKEND": "tests.blog.test_delivery.RefusingProvider"}}
    publish()
    refused = Delivery.objects.get(subscriber__email=RefusingProvider.refused)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert Subscriber.objects.get(email=RefusingProvider.refused).status == "bounced"
    assert Delivery.objects.filter(status="sent").count() == 2
