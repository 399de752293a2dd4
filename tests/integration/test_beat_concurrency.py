"""Two worker hosts each running beat (or one beat's task delivered twice) must not publish a due post
or send a digest twice: the conditional update in publishing.publish_post and the one-digest-per-period
constraint decide, on PostgreSQL, whichever run comes first (docs/scaling.md)."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from blog.models import Delivery, Digest, Post, Send, Subscriber
from blog.tasks import publish_due_posts, send_due_digests
from tests.factories import make_post, make_subscribers, make_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def twice_at_once(task) -> list[object]:
    start = threading.Barrier(2)

    def run(_: int) -> object:
        start.wait()
        try:
            return task()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, range(2)))


def test_two_beats_publish_a_due_post_once_and_mail_it_once(require_service) -> None:
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    readers = make_subscribers(active=30)["active"]
    post = make_post(make_user("ada"), "Due now", status=Post.Status.SCHEDULED,
                     published_at=timezone.now() - timedelta(minutes=1))  # fmt: skip

    results = twice_at_once(publish_due_posts)

    assert sorted(len(r) for r in results) == [0, 1]  # exactly one run published it
    assert Post.objects.get(pk=post.pk).status == Post.Status.PUBLISHED
    assert Send.objects.filter(post=post).count() == 1
    received = Counter(address for message in mail.outbox for address in message.to)
    assert received == Counter({reader.email: 1 for reader in readers})


def test_two_beats_create_one_digest_per_subscriber(require_service) -> None:
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    make_post(make_user("ada"), "Yesterday's news")
    readers = [
        Subscriber.objects.create(email=f"daily{i}@example.com", status="active", frequency="daily", digest_hour=0,
                                  confirmed_at=timezone.now() - timedelta(days=2))
        for i in range(20)
    ]  # fmt: skip

    twice_at_once(send_due_digests)

    assert Digest.objects.count() == Delivery.objects.filter(digest__isnull=False).count() == 20
    received = Counter(address for message in mail.outbox for address in message.to)
    assert received == Counter({reader.email: 1 for reader in readers})
