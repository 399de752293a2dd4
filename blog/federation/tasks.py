"""Federation's Celery tasks, on their own queue (CELERY_TASK_ROUTES): thin,
by id, as blog/tasks.py. A new OutboundActivity row queues its own delivery
when its transaction commits, so the process modules never queue anything."""

from collections.abc import Iterable
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db.models.signals import post_save
from django.dispatch import receiver

from blog.discussion.notifications import Notice
from blog.federation import outbox
from blog.models import OutboundActivity
from blog.tasks import queue_notices as queue_comment_notices


def queue_deliveries(delivery_ids: list[int]) -> None:
    for batch in outbox.batches(delivery_ids):
        send_deliveries.delay_on_commit(batch)


def queue_retries(retries: Iterable[outbox.Retry]) -> None:
    for retry in retries:
        send_deliveries.apply_async_on_commit((retry.delivery_ids,), countdown=retry.delay)


def queue_notices(notices: Iterable[Notice]) -> None:
    queue_comment_notices(notices)


@receiver(post_save, sender=OutboundActivity, dispatch_uid="federation-queue-activity")
def _activity_recorded(
    sender: type[OutboundActivity], instance: OutboundActivity, created: bool, **kwargs: Any
) -> None:
    if created:
        deliver_activity.delay_on_commit(instance.pk)


@shared_task(base=DjangoTask)
def deliver_activity(activity_id: int) -> None:
    activity = OutboundActivity.objects.filter(pk=activity_id).first()
    if activity is not None:
        queue_deliveries(outbox.queued_ids(activity))


@shared_task(base=DjangoTask)
def send_deliveries(delivery_ids: list[int]) -> None:
    queue_retries(outbox.send_deliveries(delivery_ids))


@shared_task(base=DjangoTask)
def requeue_stuck() -> None:
    queue_deliveries(outbox.requeue_stuck())
