"""A reader's own data: everything the site keeps about them, to download, and
closing their account.

Closing an account erases the person, not the conversation: the account row
stays as an empty, inactive tombstone (so the replies others wrote, likes in
the counts and the moderators' log keep their places), and everything that
said who they were goes: name, handle, e-mail addresses, bio, avatar,
password, two-factor devices, comment texts and their earlier versions,
re-stacks, the newsletter address and its consent record. `CONSEQUENCES` is
what the page tells them first; a test holds each sentence to the code."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from blog import pagecache
from blog.discussion import threads
from blog.models import (
    Comment,
    CommentLike,
    CommentRevision,
    Like,
    Post,
    ReferralVisit,
    Restack,
    Share,
    Subscriber,
)

CONSEQUENCES = [
    "Your comments are deleted. A comment someone replied to stays as “deleted”, without your name or text, "
    "so that the replies still make sense.",
    "Your likes stay in the posts' counts, with nothing that leads to you; your re-stacks and their notes go.",
    "Your newsletter subscription stops and its address and consent record are erased.",
    "Your profile page, name, handle, e-mail addresses, avatar, password and two-factor devices are erased, "
    "and you are signed out everywhere.",
    "This cannot be undone.",
]
DELETED_NAME = "Deleted reader"


def _when(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def subscriptions_of(user: User) -> list[Subscriber]:
    return list(Subscriber.objects.filter(user=user) | Subscriber.objects.filter(email__iexact=user.email))


def export(user: User) -> dict[str, Any]:
    """Everything kept about this reader, as JSON-ready data."""
    comments = Comment.objects.filter(author=user).select_related("post").order_by("created_at")
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "handle": user.username, "display_name": user.display_name, "bio": user.bio,
            "email": user.email, "time_zone": user.time_zone, "joined": _when(user.date_joined),
            "last_login": _when(user.last_login), "avatar": user.avatar.name or None,
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary}
                for a in EmailAddress.objects.filter(user=user).order_by("pk")
            ],
            "notifications": {
                "comments_on_my_posts": user.email_on_comments, "replies_to_my_comments": user.email_on_replies,
                "comments_waiting_for_moderation": user.email_on_moderation,
            },
        },
        "comments": [
            {"id": c.pk, "post": c.post.title, "url": c.anchor_url, "body": c.body, "status": c.status,
             "deleted": c.is_deleted, "written": _when(c.created_at), "edited": _when(c.edited_at)}
            for c in comments
        ],
        "likes": [
            {"post": like.post.title, "url": like.post.get_absolute_url(), "liked": _when(like.created_at)}
            for like in Like.objects.filter(user=user).select_related("post").order_by("created_at")
        ],
        "comment_likes": [
            {"comment": like.comment_id, "liked": _when(like.created_at)}
            for like in CommentLike.objects.filter(user=user).order_by("pk")
        ],
        "restacks": [
            {"post": r.post.title, "url": r.post.get_absolute_url(), "note": r.note, "restacked": _when(r.created_at)}
            for r in Restack.objects.filter(user=user).select_related("post").order_by("created_at")
        ],
        "subscriptions": [
            {"email": s.email, "status": s.status, "frequency": s.frequency, "digest_hour": s.digest_hour,
             "digest_weekday": s.digest_weekday, "time_zone": s.timezone, "source": s.source,
             "subscribed": _when(s.created_at), "confirmed": _when(s.confirmed_at),
             "consent_ip": s.consent_ip, "confirmed_ip": s.confirmed_ip, "unsubscribed": _when(s.unsubscribed_at)}
            for s in subscriptions_of(user)
        ],
    }  # fmt: skip


def refusal(user: User) -> str | None:
    """Why this account cannot be closed by its owner, or None."""
    if user.is_staff or user.is_superuser:
        return "Staff accounts are closed by another administrator, who can hand over what the account runs."
    posts = Post.objects.filter(author=user).count()
    if posts:
        return (
            f"You have written {posts} post{'s' if posts != 1 else ''}. An editor must move them to another author "
            "or delete them before this account can be closed."
        )
    return None


def delete_account(user: User) -> None:
    """Erase the person and keep an empty, inactive account row (see the module's docstring)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _erase_comments(user)
        for item in Restack.objects.filter(user=user):
            Post.objects.filter(pk=item.post_id, restack_count__gt=0).update(restack_count=F("restack_count") - 1)
            item.delete()
        Share.objects.filter(user=user).update(user=None)
        ReferralVisit.objects.filter(referrer=user).delete()
        for subscriber in subscriptions_of(user):
            _erase_subscriber(subscriber)
        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        if user.avatar:
            user.avatar.delete(save=False)
        user.username = f"deleted-{user.pk}"
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.display_name, user.bio, user.first_name, user.last_name = DELETED_NAME, "", "", ""
        user.time_zone, user.referral_code, user.avatar = "", None, ""
        user.email_on_comments = user.email_on_replies = user.email_on_moderation = False
        user.is_active = False
        user.set_unusable_password()  # also ends every session: their hash no longer matches
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
    pagecache.changed(pagecache.SITE)  # names and comments on every page


def _erase_comments(user: User) -> None:
    comments = Comment.objects.filter(author=user)
    posts = set(comments.values_list("post_id", flat=True))
    CommentRevision.objects.filter(comment__author=user).delete()
    # Leaves first, then what became a leaf: a comment shown above someone else's reply stays.
    while comments.filter(children__isnull=True).delete()[0]:
        pass
    comments.update(is_deleted=True, is_pinned=False, body="", body_html="", ip=None)
    for post_id in posts:
        threads.changed(post_id)


def _erase_subscriber(subscriber: Subscriber) -> None:
    """Stops every e-mail and erases the address; the row stays for the send counts."""
    Subscriber.objects.filter(pk=subscriber.pk).update(
        email=f"erased-{subscriber.pk}@erased.invalid", user=None, status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at=subscriber.unsubscribed_at or timezone.now(), consent_ip=None, confirmed_ip=None,
        source="", referred_by=None,
    )  # fmt: skip
