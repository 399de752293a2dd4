"""Test data and the actions every test module repeats, importable from any test.

Named people (ada the author, rosa the reader, milo the moderator, ...) are
fixtures in tests/conftest.py built with these."""

from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from accounts.models import User
from blog.discussion import moderation
from blog.models import Comment, ModerationSettings, Post, Subscriber
from blog.posts.publishing import publish_post
from blog.tasks import queue_send

PASSWORD = "a-long-pass-phrase"


def make_user(handle: str, *, role: str | None = None, **fields: Any) -> User:
    """A user with a verified address handle@example.com and the password PASSWORD."""
    user = User.objects.create_user(handle, f"{handle}@example.com", PASSWORD, **fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def grant(user: User, *perms: str) -> User:
    """Give `user` permissions; returns a fresh copy (has_perm caches)."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)


def relax_moderation(**rules: Any) -> ModerationSettings:
    """Rules that let a test's comments through at once: no hold on a first
    comment, no minimum time on the form (plus any `rules` given)."""
    defaults = {"hold_first_comment": False, "min_seconds_to_submit": 0, **rules}
    return ModerationSettings.objects.update_or_create(pk=1, defaults=defaults)[0]


def make_post(author: User, title: str = "A published post", **fields: Any) -> Post:
    """A post published an hour ago, unless `status` or `published_at` say otherwise."""
    fields.setdefault("body", "Some *Markdown* body.")
    fields.setdefault("status", Post.Status.PUBLISHED)
    if fields["status"] == Post.Status.PUBLISHED:
        fields.setdefault("published_at", timezone.now() - timedelta(hours=1))
    return Post.objects.create(author=author, title=title, **fields)


def make_subscribers(**counts: int) -> dict[str, list[Subscriber]]:
    """make_subscribers(active=3, active_daily=1, bounced=1): status, then frequency (default each post)."""
    made = {}
    for key, n in counts.items():
        status, _, frequency = key.partition("_")
        made[key] = [
            Subscriber.objects.create(email=f"{key}{i}@example.com", status=status, frequency=frequency or "post")
            for i in range(n)
        ]
    return made


def publish(post: Post) -> bool:
    """What the desk, the admin and the beat task do: publish, then queue the e-mail to subscribers."""
    published = publish_post(post)
    if published:
        queue_send([post.pk])
    return published


def say(client: Client, post: Post, body: str, **extra: Any) -> HttpResponse:
    """Send the comment form of `post` as whoever `client` is signed in as."""
    return client.post(f"/p/{post.slug}/comments/new/", {"body": body, "ts": moderation.form_token(), **extra})


def comment_as(user: User, post: Post, body: str, reply_to: Comment | None = None) -> Comment:
    """`user` comments through the site, as a reader does; returns the saved comment."""
    client = Client()
    client.force_login(user)
    response = say(client, post, body, reply_to=reply_to.pk if reply_to else "")
    assert response.status_code == 302, response.content.decode()[:500]
    return Comment.objects.filter(author=user).latest("pk")
