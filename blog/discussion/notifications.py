"""Notification e-mails about comments: to a post's author, to the reader
someone replied to, and (batched, see blog/discussion/moderation.py) to moderators.

Each e-mail carries a signed link that turns off that kind of e-mail, with
RFC 8058 headers too. Nothing here queues work: `notices_for` says who must
hear of a comment that just became public, the caller queues one task per
notice, and the task builds the message with `comment_message`."""

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.urls import reverse

from accounts.models import User
from blog.models import Comment
from blog.shared import emails
from blog.shared.site import absolute

SALT = "dispatch.notifications.off"


class Kind(models.TextChoices):
    """A kind of notification e-mail; the label completes "you get e-mails about …"."""

    COMMENTS = "comments", "new comments on your posts"
    REPLIES = "replies", "replies to your comments"
    MODERATION = "moderation", "comments waiting for moderation"

    @property
    def setting(self) -> str:
        """The User field that turns this kind of e-mail on or off."""
        return f"email_on_{self.value}"


@dataclass(frozen=True)
class Notice:
    """One e-mail that must go out: `kind` about `comment_id` to `user_id`."""

    kind: Kind
    comment_id: int
    user_id: int


def off_token(user: User, kind: Kind) -> str:
    return signing.Signer(salt=SALT).sign_object([user.pk, str(kind)])


def user_for_off_token(token: str) -> tuple[User, Kind] | None:
    try:
        pk, kind = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user = User.objects.filter(pk=pk).first()
    return (user, Kind(kind)) if user and kind in Kind.values else None


def turn_off(user: User, kind: Kind) -> None:
    User.objects.filter(pk=user.pk).update(**{kind.setting: False})


def wants(user: User, kind: Kind) -> bool:
    return bool(getattr(user, kind.setting))


def notices_for(comment: Comment) -> list[Notice]:
    """A comment became public: the post's author and the reader it answers hear of it."""
    notices = []
    if comment.post.author_id != comment.author_id:
        notices.append(Notice(Kind.COMMENTS, comment.pk, comment.post.author_id))
    reply_to = comment.reply_to
    if reply_to and reply_to.author_id not in (comment.author_id, comment.post.author_id) and not reply_to.is_deleted:
        notices.append(Notice(Kind.REPLIES, comment.pk, reply_to.author_id))
    return notices


def notification_message(user: User, kind: Kind, template: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    """A notification e-mail whose unsubscribe link turns off `kind` for `user`."""
    off_url = absolute(reverse("blog:notifications_off", args=[off_token(user, kind)]))
    context = {**context, "user": user, "off_url": off_url, "what": kind.label}
    return emails.build_message(template, user.email, context, unsubscribe_url=off_url)


def comment_message(kind: Kind, comment: Comment, user: User) -> EmailMultiAlternatives | None:
    """The e-mail of one notice, or None if the comment is no longer public or the user opted out."""
    if comment.status != Comment.Status.APPROVED or comment.is_deleted or not wants(user, kind):
        return None
    context = {"comment": comment, "post": comment.post, "url": absolute(comment.anchor_url), "kind": kind}
    return notification_message(user, kind, "comment", context)
