"""Publishing (blog/posts/publishing.py): a post goes live once, schedules only
forward, and the beat task publishes what is due and e-mails it once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from blog.models import Post, Send
from blog.posts.publishing import publish_post, schedule_post, unpublish_post
from blog.tasks import publish_due_posts
from tests.factories import make_post, make_subscribers

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(ada) -> Post:
    return make_post(ada, "Half written", status=Post.Status.DRAFT)


def test_publishing_twice_runs_once(draft) -> None:
    assert publish_post(draft) is True
    assert publish_post(draft) is False
    assert draft.status == Post.Status.PUBLISHED and draft.published_at <= timezone.now()


def test_a_publication_time_in_the_past_is_refused_and_nothing_changes(draft) -> None:
    with pytest.raises(ValidationError, match="Choose a publication time in the future"):
        schedule_post(draft, timezone.now() - timedelta(minutes=1))
    draft.refresh_from_db()
    assert draft.status == Post.Status.DRAFT and draft.published_at is None


def test_unpublishing_forgets_the_publication_date(draft) -> None:
    publish_post(draft)
    unpublish_post(draft)
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == (Post.Status.DRAFT, None)


def test_the_beat_task_publishes_due_posts_and_mails_them_once(draft, django_capture_on_commit_callbacks) -> None:
    make_subscribers(active=2)
    schedule_post(draft, timezone.now() + timedelta(minutes=5))
    Post.objects.filter(pk=draft.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_due_posts.delay().get() == [draft.pk]
        assert publish_due_posts.delay().get() == []
    assert Post.objects.get(pk=draft.pk).status == Post.Status.PUBLISHED
    assert Send.objects.get(post=draft).status == Send.Status.DONE
    assert sorted(m.to[0] for m in mail.outbox) == ["active0@example.com", "active1@example.com"]
