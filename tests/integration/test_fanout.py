"""A post going out to subscribers through the real worker, Redis and an SMTP sink."""

import random
import time
from collections import Counter

import pytest

from blog.models import Delivery, Post, Subscriber
from blog.publishing import publish_post
from blog.tasks import queue_send, requeue_stuck_deliveries
from tests.factories import make_post, make_user

pytestmark = pytest.mark.integration

STUCK_AFTER = 3


@pytest.fixture
def worker_env() -> dict[str, str]:
    # Short backoff so that retries happen within the test.
    return {
        "DELIVERY_RETRY_BASE_SECONDS": "0.2",
        "DELIVERY_RETRY_MAX_SECONDS": "1",
        "DELIVERY_MAX_ATTEMPTS": "12",
        "DELIVERY_STUCK_AFTER_SECONDS": str(STUCK_AFTER),
    }


@pytest.fixture
def fast_sweeper(settings):
    settings.DELIVERY_STUCK_AFTER_SECONDS = STUCK_AFTER
    settings.DELIVERY_MAX_ATTEMPTS = 12


def add_subscribers(prefix: str, n: int, **fields) -> list[Subscriber]:
    return Subscriber.objects.bulk_create(Subscriber(email=f"{prefix}{i}@example.com", **fields) for i in range(n))


def publish(title: str) -> Post:
    post = make_post(make_user(f"author{random.randrange(10**6)}"), title, status=Post.Status.DRAFT)
    if publish_post(post):
        queue_send([post.pk])  # no surrounding transaction: the send is enqueued at once
    return post


def wait_until_sent(post: Post, expected: int, timeout: float = 180, sweep: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries = Delivery.objects.filter(send__post=post)
        if deliveries.count() == expected and not deliveries.filter(status__in=["queued", "sending"]).exists():
            return
        if sweep:
            requeue_stuck_deliveries()  # what beat does every minute in production
        time.sleep(0.5)
    counts = Counter(Delivery.objects.filter(send__post=post).values_list("status", flat=True))
    raise AssertionError(f"send did not finish: {dict(counts)}")


def test_publish_to_300_mixed_subscribers_mails_each_active_each_post_reader_once(celery_worker_process, smtp_sink):
    readers = add_subscribers("each", 150, status="active")
    add_subscribers("daily", 30, status="active", frequency="daily")
    add_subscribers("weekly", 30, status="active", frequency="weekly")
    add_subscribers("pending", 30, status="pending")
    add_subscribers("gone", 30, status="unsubscribed")
    add_subscribers("bounced", 15, status="bounced")
    add_subscribers("complained", 15, status="complained")

    post = publish("To the three hundred")
    wait_until_sent(post, expected=150)

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.recipients)
    assert received == Counter({r.email: 1 for r in readers})
    for message in smtp_sink.messages:
        assert message["Subject"] == "To the three hundred"
        assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"].startswith("<dispatch.delivery.")
        assert message.message.is_multipart()


def test_random_temporary_refusals_still_deliver_exactly_once(celery_worker_process, smtp_sink, fast_sweeper):
    readers = add_subscribers("flaky", 100, status="active")
    chance = random.Random(8058)
    smtp_sink.reply = lambda sender, rcpts: "451 4.3.0 Try again later" if chance.random() < 0.2 else None

    post = publish("Through the storm")
    wait_until_sent(post, expected=100, sweep=True)

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.recipients)
    assert received == Counter({r.email: 1 for r in readers})
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert Delivery.objects.filter(attempts__gt=1).exists()  # some really were retried


def test_a_permanent_refusal_fails_once_and_marks_the_address_bounced(celery_worker_process, smtp_sink):
    add_subscribers("fine", 20, status="active")
    smtp_sink.reply = lambda sender, rcpts: "550 5.1.1 No such user" if "fine7@example.com" in rcpts else None

    post = publish("One bad address")
    wait_until_sent(post, expected=20)

    failed = Delivery.objects.get(subscriber__email="fine7@example.com")
    assert (failed.status, failed.attempts) == ("failed", 1)  # no retry storm
    assert Subscriber.objects.get(email="fine7@example.com").status == "bounced"
    assert len(smtp_sink.messages) == 19


# One worker process, so that a kill interrupts at most one message in flight.
@pytest.mark.parametrize("worker_env", [{"DELIVERY_STUCK_AFTER_SECONDS": str(STUCK_AFTER), "CONCURRENCY": "1"}])
def test_a_worker_killed_twice_mid_send_misses_no_one(celery_worker_process, smtp_sink, fast_sweeper):
    readers = add_subscribers("many", 2000, status="active")
    post = publish("Survives crashes")

    for threshold in (300, 1100):
        smtp_sink.wait_for(threshold, timeout=120)
        celery_worker_process.kill()
        celery_worker_process.start()
    wait_until_sent(post, expected=2000, timeout=300, sweep=True)

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.recipients)
    assert set(received) == {r.email for r in readers}  # nobody missed
    duplicates = sum(n - 1 for n in received.values())
    print(f"duplicates after two kills: {duplicates}")
    assert duplicates <= 2  # at most the one message in flight per kill
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
