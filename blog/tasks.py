"""Celery tasks: thin wrappers that take ids and call the process modules."""

from celery import shared_task

from accounts.models import User
from blog import delivery, notifications, publishing
from blog.emails import confirmation_message
from blog.models import Comment, Post, Send, Subscriber
from blog.previews import ensure_preview


@shared_task
def publish_due_posts() -> list[int]:
    published = publishing.publish_due_posts()
    for post_id in published:
        refresh_preview(post_id)  # og:image is ready the moment the post is shared
    return published


@shared_task
def refresh_preview(post_id: int) -> None:
    """Redraw a published post's social preview if its title, author or cover changed."""
    post = Post.objects.published().select_related("author").filter(pk=post_id).first()
    if post:
        ensure_preview(post)


def enqueue_deliveries(delivery_ids: list[int], delay: float = 0) -> None:
    if delivery_ids:
        send_deliveries.apply_async((delivery_ids,), countdown=delay or None)


@shared_task
def start_send(post_id: int) -> None:
    """Create the deliveries of a newly published post and queue them in batches."""
    post = Post.objects.published().filter(pk=post_id).first()
    if post is None:
        return
    send = delivery.create_send(post)
    for batch in delivery.queued_batches(send):
        enqueue_deliveries(batch)


@shared_task
def send_deliveries(delivery_ids: list[int]) -> None:
    delivery.send_deliveries(delivery_ids, enqueue_deliveries)


@shared_task
def send_due_digests() -> None:
    ids = delivery.create_due_digests()
    for start in range(0, len(ids), 100):
        enqueue_deliveries(ids[start : start + 100])


@shared_task
def requeue_stuck_deliveries() -> None:
    ids = delivery.requeue_stuck_deliveries()
    for start in range(0, len(ids), 500):
        enqueue_deliveries(ids[start : start + 500])


@shared_task
def retry_failed_deliveries(send_id: int) -> None:
    ids = delivery.retry_failed(Send.objects.get(pk=send_id))
    for start in range(0, len(ids), 500):
        enqueue_deliveries(ids[start : start + 500])


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_confirmation(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.PENDING).first()
    if subscriber:
        confirmation_message(subscriber).send()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_comment_notification(kind: str, comment_id: int, user_id: int) -> None:
    comment = Comment.objects.select_related("post", "author").filter(pk=comment_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    message = notifications.comment_message(kind, comment, user) if comment and user else None
    if message:
        message.send()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_moderation_digest() -> None:
    for message in notifications.moderation_digest():
        message.send()
