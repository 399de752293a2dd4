"""What happens when a post goes live, is scheduled, or is taken down.

The writing desk, the admin and the beat task all call these functions, so
later steps (emails to subscribers) hang on one place."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from blog import pagecache
from blog.models import Post


@transaction.atomic
def publish_post(post: Post) -> bool:
    """Make a post live now (or at its scheduled time, if that has come).

    Returns False when another process published it first, so that
    side effects run once."""
    now = timezone.now()
    when = post.published_at if post.status == Post.Status.SCHEDULED and post.published_at else now
    updated = (
        Post.objects.filter(pk=post.pk)
        .exclude(status=Post.Status.PUBLISHED)
        .update(status=Post.Status.PUBLISHED, published_at=min(when, now), updated_at=now)
    )
    post.refresh_from_db()
    if updated:
        pagecache.changed(pagecache.post_scope(post.slug), pagecache.LISTINGS)
        # Subscribers get it once the publication is committed.
        from blog.tasks import start_send

        start_send.delay_on_commit(post.pk)
    return bool(updated)


def schedule_post(post: Post, when: datetime) -> None:
    if when <= timezone.now():
        raise ValidationError("Choose a publication time in the future.")
    post.status = Post.Status.SCHEDULED
    post.published_at = when
    post.save(update_fields=["status", "published_at"])


def unpublish_post(post: Post) -> None:
    """Take a post back to draft; its first publication date is forgotten."""
    post.status = Post.Status.DRAFT
    post.published_at = None
    post.save(update_fields=["status", "published_at"])


def publish_due_posts() -> list[int]:
    """Publish every scheduled post whose time has come; returns their ids."""
    due = Post.objects.filter(status=Post.Status.SCHEDULED, published_at__lte=timezone.now())
    return [post.pk for post in due if publish_post(post)]
