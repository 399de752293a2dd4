"""Celery tasks: thin wrappers that take ids and call the process modules.

The process modules never queue work; they return what must happen (posts
published now, delivery batches and retries, notices), and the callers
(views, admin actions, these tasks) queue it after commit with the
`queue_*` functions below, so every piece of work is queued the same way."""

import smtplib
from collections.abc import Iterable
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.dispatch import receiver

from accounts.models import User
from blog import pagecache
from blog.discussion import moderation, notifications
from blog.discussion.notifications import Kind, Notice
from blog.insights import pageviews
from blog.integrations import webhooks
from blog.models import Comment, NewsletterSettings, Post, Send, Subscriber
from blog.newsletter import delivery, emails, subscriptions
from blog.newsletter.emails import confirmation_message
from blog.pagecache import purgers
from blog.posts import publishing
from blog.posts.previews import ensure_preview
from blog.shared.emails import Rendered, compose
from blog.transfers import exports
from blog.transfers.imports import jobs


def queue_send(post_ids: Iterable[int]) -> None:
    """Posts published just now: e-mail them to their subscribers."""
    for post_id in post_ids:
        start_send.delay_on_commit(post_id)


def queue_deliveries(delivery_ids: list[int]) -> None:
    for batch in delivery.batches(delivery_ids):
        send_deliveries.delay_on_commit(batch)


def queue_retries(retries: Iterable[delivery.Retry]) -> None:
    for retry in retries:
        send_deliveries.apply_async_on_commit((retry.delivery_ids,), countdown=retry.delay)


def queue_notices(notices: Iterable[Notice]) -> None:
    for notice in notices:
        send_comment_notification.delay_on_commit(notice.kind.value, notice.comment_id, notice.user_id)


@receiver(pagecache.pages_changed, dispatch_uid="blog.tasks.queue_purge")
def queue_purge(sender: object, keys: list[str], **kwargs: Any) -> None:
    """Sent after commit by pagecache.changed(), so queued at once."""
    purge_pages.delay(keys)


@shared_task(base=DjangoTask, autoretry_for=(purgers.PurgeFailed,), retry_backoff=True, retry_backoff_max=60,
             max_retries=8)  # fmt: skip
def purge_pages(keys: list[str]) -> None:
    """Drop the pages these surrogate keys name from the shared cache in front (docs/caching.md)."""
    purgers.purge(keys)


def queue_webhooks(sender: object, event: str, data: dict[str, Any], **kwargs: Any) -> None:
    """Receiver of blog.shared.events.occurred: record a delivery per listening hook, send each after commit."""
    for delivery_id in webhooks.record_event(event, data):
        deliver_webhook.delay_on_commit(delivery_id)


@shared_task(base=DjangoTask)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt; a failure that may still succeed is tried again after a short, growing countdown."""
    delay = webhooks.attempt(delivery_id)
    if delay is not None:
        deliver_webhook.apply_async_on_commit((delivery_id,), countdown=delay)


@shared_task(base=DjangoTask)
def requeue_stuck_webhooks() -> int:
    """The beat's sweep for webhook deliveries whose task was lost."""
    stuck = webhooks.stuck_deliveries()
    for delivery_id in stuck:
        deliver_webhook.delay_on_commit(delivery_id)
    return len(stuck)


@shared_task(base=DjangoTask)
def publish_due_posts() -> list[int]:
    published = publishing.publish_due_posts()
    queue_send(published)
    for post_id in published:
        refresh_preview.delay_on_commit(post_id)  # og:image is ready the moment the post is shared
    return published


@shared_task(base=DjangoTask)
def fold_page_views() -> int:
    return pageviews.fold()


@shared_task(base=DjangoTask)
def refresh_preview(post_id: int) -> None:
    """Redraw a published post's social preview if its title, author or cover changed."""
    post = Post.objects.published().select_related("author").filter(pk=post_id).first()
    if post:
        ensure_preview(post)


@shared_task(base=DjangoTask)
def start_send(post_id: int) -> None:
    """Create the deliveries of a newly published post and queue them in batches."""
    post = Post.objects.published().filter(pk=post_id, email_subscribers=True).first()
    if post is None:
        return  # unpublished meanwhile, or published on the web only
    queue_deliveries(delivery.queued_ids(delivery.create_send(post)))


@shared_task(base=DjangoTask)
def send_deliveries(delivery_ids: list[int]) -> None:
    queue_retries(delivery.send_deliveries(delivery_ids))


@shared_task(base=DjangoTask)
def send_due_digests() -> None:
    queue_deliveries(delivery.create_due_digests())


@shared_task(base=DjangoTask)
def requeue_stuck_deliveries() -> None:
    queue_deliveries(delivery.requeue_stuck_deliveries())


@shared_task(base=DjangoTask)
def retry_failed_deliveries(send_id: int) -> None:
    queue_deliveries(delivery.retry_failed(Send.objects.get(pk=send_id)))


@shared_task(base=DjangoTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_confirmation(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.PENDING).first()
    if subscriber:
        confirmation_message(subscriber).send()


@shared_task(base=DjangoTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_comment_notification(kind: str, comment_id: int, user_id: int) -> None:
    comment = Comment.objects.select_related("post", "author").filter(pk=comment_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    message = notifications.comment_message(Kind(kind), comment, user) if comment and user else None
    if message:
        message.send()


@shared_task(base=DjangoTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_moderation_digest() -> None:
    for message in moderation.moderation_digest():
        message.send()


@shared_task(base=DjangoTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_test_email(post_id: int, user_id: int) -> None:
    """The post's e-mail to its author (or an editor) before it goes out."""
    post = Post.objects.select_related("author").filter(pk=post_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if post and user:
        emails.test_message(post, user.email).send()


@shared_task(base=DjangoTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_welcome(subscriber_id: int) -> None:
    """A subscriber confirmed: the desk's welcome e-mail, if it is on, once."""
    newsletter = NewsletterSettings.load()
    if not newsletter.welcome_enabled:
        return
    subscriber = subscriptions.claim_welcome(subscriber_id)
    if subscriber is None:
        return
    try:
        emails.welcome_message(subscriber, newsletter).send()
    except OSError:
        subscriptions.release_welcome(subscriber_id)  # the retry may claim it again
        raise


@shared_task(base=DjangoTask)
def check_import(job_id: int) -> None:
    """The dry run of an import uploaded on the desk."""
    jobs.perform_check(job_id)


@shared_task(base=DjangoTask)
def import_publication(job_id: int) -> None:
    """An import uploaded on the desk; it sends nothing to anyone."""
    jobs.perform_import(job_id)


@shared_task(base=DjangoTask)
def expire_import_uploads() -> None:
    """Uploads checked but never imported do not stay on disk (IMPORT_UPLOAD_HOURS)."""
    jobs.expire_uploads()


@shared_task(base=DjangoTask)
def export_publication(job_id: int) -> None:
    exports.perform_export(job_id)


@shared_task(
    base=DjangoTask,
    # Its name from when it lived in accounts, so messages queued before a deploy still run.
    name="accounts.tasks.send_account_email",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=6,
)
def send_account_email(subject: str, text: str, html: str, to: str) -> None:
    """Send one of allauth's transactional messages (verification, password reset).

    The message is rendered by the web process and passed whole, so a worker
    never needs the user's session or request to build it."""
    compose(Rendered(subject, text, html), to).send()
