"""What happens when a post goes live, is scheduled, or is taken down.

The writing desk, the admin and the beat task all call these functions.
Nothing here queues work: `publish_post` says whether the post went live
just now, and the caller then queues the e-mail to subscribers (once, since
only one caller can win the conditional update)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from blog import pagecache
from blog.federation import outbox
from blog.models import Post
from blog.shared import events


def check_publication_time(when: datetime | None) -> datetime:
    """A scheduled time must be given and in the future (the desk's form asks the same)."""
    if when is None:
        raise ValidationError("Choose when to publish.")
    if when <= timezone.now():
        raise ValidationError("Choose a publication time in the future.")
    return when


@transaction.atomic
def publish_post(post: Post) -> bool:
    """Make a post live now (or at its scheduled time, if that has come).

    Returns True only for the call that published it, so that the e-mail to
    subscribers is queued once; False when it was live already."""
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
        events.post_event(events.Event.POST_PUBLISHED, post)
        outbox.post_published(post)  # Create{Article} to the fediverse followers, with this transaction
    return bool(updated)


def schedule_post(post: Post, when: datetime | None) -> None:
    post.published_at = check_publication_time(when)
    post.status = Post.Status.SCHEDULED
    post.save(update_fields=["status", "published_at"])


@transaction.atomic
def unpublish_post(post: Post) -> None:
    """Take a post back to draft; its first publication date is forgotten (and the fediverse told)."""
    was_live = post.is_live
    post.status = Post.Status.DRAFT
    post.published_at = None
    post.save(update_fields=["status", "published_at"])
    if was_live:
        events.post_event(events.Event.POST_UNPUBLISHED, post)
    outbox.post_unpublished(post)


def publish_due_posts() -> list[int]:
    """Publish every scheduled post whose time has come; returns the ids of those published now."""
    due = Post.objects.filter(status=Post.Status.SCHEDULED, published_at__lte=timezone.now())
    return [post.pk for post in due if publish_post(post)]
