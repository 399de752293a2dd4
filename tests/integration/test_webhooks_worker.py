"""A webhook through a real Celery worker on Redis: queued after the commit
that published the post, retried after a 500 with its short countdown, and
verified by a real receiver on 127.0.0.1."""

import time

import pytest

from blog.integrations import webhooks
from blog.models import WebhookDelivery
from tests.blog.test_webhooks import receiver  # noqa: F401  (the receiver fixture)
from tests.factories import make_post, make_user, publish

pytestmark = pytest.mark.integration


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "1", "WEBHOOK_RETRY_BASE_SECONDS": "0.5", "WEBHOOK_MAX_ATTEMPTS": "3"}


def test_a_worker_delivers_retries_and_signs(celery_worker_process, receiver, settings) -> None:  # noqa: F811
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    owner = make_user("olga")
    hook = webhooks.create_hook(owner, receiver.url, ["post.published"])
    receiver.secret, receiver.answers = hook.secret, [500, 200]
    publish(make_post(make_user("ada"), "Through the worker", status="draft"))
    deadline = time.monotonic() + 30
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.received) == 2, celery_worker_process.log_path.read_text()[-3000:]
    assert all(call["valid"] for call in receiver.received)
    assert receiver.received[0]["headers"]["webhook-id"] == receiver.received[1]["headers"]["webhook-id"]
    deadline = time.monotonic() + 10
    while WebhookDelivery.objects.get().status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.1)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 2, 200)
