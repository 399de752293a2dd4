"""A post going out to subscribers through the real worker, Redis and an SMTP sink."""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from blog.models import Delivery, Post, Subscriber
from blog.newsletter import delivery
from blog.posts.publishing import publish_post
from blog.tasks import queue_send, requeue_stuck_deliveries
from tests.conftest import ROOT
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


# One worker process, so that each kill lands in the middle of a batch.
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
    assert duplicates <= 2  # only a kill between a dot and its mark repeats a message (microseconds)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


# --- A sender killed (SIGKILL) at the two moments of a message over SMTP ------------------------------

# Runs send_deliveries in a process that kills itself at the chosen call: "dot", the n-th final dot
# (the message written but for it, not yet marked); "mark", the n-th claim statement (the message
# before it has had its dot, the statement would mark it).
KILLED_SENDER = """
import os, signal
from blog.newsletter import delivery, smtpwire

calls = {"n": 0}

def killing(original):
    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == int(os.environ["KILL_ON"]):
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return wrapper

if os.environ["KILL_AT"] == "dot":
    smtpwire.Sender.write_dot = killing(smtpwire.Sender.write_dot)
else:
    delivery._claim = killing(delivery._claim)
delivery.send_deliveries([int(pk) for pk in os.environ["IDS"].split(",")])
"""


@pytest.fixture
def killed_sender(transactional_db, smtp_sink, settings, tmp_path):
    """Send a batch in a process of its own that SIGKILLs itself; later sends (the retry) run here."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the killed process must share the database: set DATABASE_URL=postgres://...")
    database = connection.settings_dict
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp_sink.host, "port": smtp_sink.port, "timeout": 5},
        }
    }

    def run(ids: list[int], at: str, on: int) -> None:
        env = {
            **os.environ, "TESTING": "1", "EMAIL_URL": smtp_sink.url, "CONN_MAX_AGE": "0",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
                            f"{database['PORT'] or 5432}/{database['NAME']}",
            "KILL_AT": at, "KILL_ON": str(on), "IDS": ",".join(map(str, ids)),
        }  # fmt: skip
        command = [sys.executable, "manage.py", "shell", "--no-imports", "-c", KILLED_SENDER]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)
        assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
        time.sleep(0.5)  # the sink reads what the kernel delivered for the dead process

    return run


def in_order(send) -> tuple[list[int], list[str]]:
    """The send's delivery ids in the order a batch sends them, and their addresses."""
    rows = send.deliveries.order_by("pk").values_list("pk", "subscriber__email")
    return [pk for pk, _ in rows], [address for _, address in rows]


def sweep_and_send_again(ids: list[int]) -> None:
    """What beat's sweep and the next task do once the dead worker's rows are old enough."""
    later = timezone.now() + timedelta(seconds=STUCK_AFTER + 1)
    delivery.requeue_stuck_deliveries(now=later)
    delivery.send_deliveries(ids)


def test_a_sender_killed_mid_message_repeats_nothing_and_sends_it_on_the_retry(killed_sender, smtp_sink, fast_sweeper):
    add_subscribers("midway", 6, status="active")
    send = delivery.create_send(make_post(make_user("killed-midway"), "Killed midway"))
    ids, readers = in_order(send)

    killed_sender(ids, at="dot", on=3)  # the third message written but for its dot
    assert [m.recipients[0] for m in smtp_sink.messages] == readers[:2]  # the server dropped the third
    statuses = list(send.deliveries.order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent", "sent", "sending", "queued", "queued", "queued"]

    sweep_and_send_again(ids)
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.recipients)
    assert received == Counter(readers)
    assert set(send.deliveries.values_list("status", flat=True)) == {"sent"}


def test_a_sender_killed_between_a_dot_and_its_mark_repeats_that_one_message(killed_sender, smtp_sink, fast_sweeper):
    add_subscribers("atdot", 6, status="active")
    send = delivery.create_send(make_post(make_user("killed-at-mark"), "Killed at the mark"))
    ids, readers = in_order(send)

    killed_sender(ids, at="mark", on=3)  # the second message's dot written, its mark not yet sent
    assert [m.recipients[0] for m in smtp_sink.messages] == readers[:2]
    statuses = list(send.deliveries.order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent", "sending", "queued", "queued", "queued", "queued"]

    sweep_and_send_again(ids)
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.recipients)
    # The price of never losing one (docs/email.md): a kill in the microseconds between the dot's
    # write and the mark's repeats that message. Nobody is missed.
    assert received == Counter([*readers, readers[1]])
    assert set(send.deliveries.values_list("status", flat=True)) == {"sent"}
