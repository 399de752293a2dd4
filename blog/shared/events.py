"""What happened, said once by the process that made it happen.

The process functions (publishing, subscriptions, comments, moderation,
engagement, delivery) call `emit` with a webhook event name and a small JSON
payload; `occurred` is a plain Django signal, and blog/apps.py connects the
receiver that records webhook deliveries and queues them after commit. So a
process module stays free of Celery, and a view never emits anything."""

from typing import Any

from django.dispatch import Signal

from blog.models import Comment, Post, Subscriber, Webhook
from blog.shared.site import absolute

Event = Webhook.Event
occurred = Signal()  # sent with event=<Webhook.Event value>, data=<dict>


def emit(event: str, data: dict[str, Any]) -> None:
    occurred.send(sender=Webhook, event=event, data=data)


def post_data(post: Post) -> dict[str, Any]:
    return {
        "id": post.pk,
        "slug": post.slug,
        "title": post.title,
        "status": post.status,
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "url": absolute(post.get_absolute_url()),
        "author": post.author.username,
    }


def subscriber_data(subscriber: Subscriber) -> dict[str, Any]:
    return {"id": subscriber.pk, "email": subscriber.email, "status": subscriber.status, "source": subscriber.source}


def comment_data(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "post_id": comment.post_id,
        "author": comment.author.username,
        "status": comment.status,
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
    }


def on_post_saved(sender: type[Post], instance: Post, created: bool, **kwargs: Any) -> None:
    """A live post saved with new words (the desk's Update, the API): post.updated.

    Publishing and unpublishing say so themselves; counters and previews are
    written with update() and never reach here."""
    fields = kwargs.get("update_fields")
    if not created and instance.is_live and (fields is None or {"title", "body", "subtitle"} & set(fields)):
        post_event(Event.POST_UPDATED, instance)


def post_event(event: str, post: Post) -> None:
    emit(event, {"post": post_data(post)})


def subscriber_event(event: str, subscriber: Subscriber) -> None:
    emit(event, {"subscriber": subscriber_data(subscriber)})


def comment_event(event: str, comment: Comment) -> None:
    emit(event, {"comment": comment_data(comment)})
