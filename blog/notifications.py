"""Notification e-mails about comments: to a post's author, to the reader
someone replied to, and (batched) to moderators. Each e-mail carries a signed
link that turns off that kind of e-mail, with RFC 8058 headers too."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

# User.objects.with_perm needs the backend named when several are configured (allauth's too).
PERMISSION_BACKEND = "django.contrib.auth.backends.ModelBackend"

KINDS = {
    "comments": ("email_on_comments", "new comments on your posts"),
    "replies": ("email_on_replies", "replies to your comments"),
    "moderation": ("email_on_moderation", "comments waiting for moderation"),
}
SALT = "dispatch.notifications.off"
MODERATION_DIGEST_EVERY = timedelta(minutes=10)


def off_token(user: User, kind: str) -> str:
    return signing.Signer(salt=SALT).sign_object([user.pk, kind])


def user_for_off_token(token: str) -> tuple[User, str] | None:
    try:
        pk, kind = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user = User.objects.filter(pk=pk).first()
    return (user, kind) if user and kind in KINDS else None


def turn_off(user: User, kind: str) -> None:
    User.objects.filter(pk=user.pk).update(**{KINDS[kind][0]: False})


def comment_approved(comment) -> None:
    """A comment became public: tell the post's author and the reader it answers."""
    from blog.tasks import send_comment_notification

    recipients = []
    if comment.post.author_id != comment.author_id:
        recipients.append((comment.post.author_id, "comments"))
    reply_to = comment.reply_to
    if reply_to and reply_to.author_id not in (comment.author_id, comment.post.author_id) and not reply_to.is_deleted:
        recipients.append((reply_to.author_id, "replies"))
    for user_id, kind in recipients:
        transaction.on_commit(lambda u=user_id, k=kind: send_comment_notification.delay(k, comment.pk, u))


def _message(user: User, kind: str, template: str, context: dict) -> EmailMultiAlternatives:
    off_url = settings.SITE_URL + reverse("blog:notifications_off", args=[off_token(user, kind)])
    context = {**context, "user": user, "off_url": off_url, "what": KINDS[kind][1], "SITE_NAME": settings.SITE_NAME,
               "postal_address": settings.POSTAL_ADDRESS}  # fmt: skip
    subject = " ".join(render_to_string(f"emails/{template}-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject,
        render_to_string(f"emails/{template}-body.txt", context),
        to=[user.email],
        headers={"List-Unsubscribe": f"<{off_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string(f"emails/{template}-body.html", context), "text/html")
    return message


def comment_message(kind: str, comment, user: User) -> EmailMultiAlternatives | None:
    if comment.status != comment.Status.APPROVED or not getattr(user, KINDS[kind][0]):
        return None
    url = settings.SITE_URL + comment.anchor_url
    return _message(user, kind, "comment", {"comment": comment, "post": comment.post, "url": url, "kind": kind})


def moderation_digest(now=None) -> list[EmailMultiAlternatives]:
    """At most one e-mail per moderator every ten minutes, listing what waits."""
    from blog.models import Comment, ModerationLog, ModerationSettings

    now = now or timezone.now()
    rules = ModerationSettings.load()
    since = rules.moderators_notified_at
    if since and now - since < MODERATION_DIGEST_EVERY:
        return []
    arrivals = ModerationLog.objects.filter(moderator=None, action__in=["auto-held", "auto-hidden"])
    if since:
        arrivals = arrivals.filter(created_at__gt=since)
    if not arrivals.exists():
        return []
    # Something new arrived: list everything that waits, newest first.
    waiting = list(
        Comment.objects.filter(status=Comment.Status.HELD)
        .select_related("post", "author")
        .order_by("-created_at")[:100]
    )
    ModerationSettings.objects.filter(pk=rules.pk).update(moderators_notified_at=now)
    moderators = User.objects.with_perm("blog.moderate_comment", backend=PERMISSION_BACKEND).filter(
        email_on_moderation=True
    )
    queue_url = settings.SITE_URL + reverse("blog:moderation_queue")
    return [_message(m, "moderation", "moderation-digest", {"comments": waiting, "queue_url": queue_url})
            for m in moderators]  # fmt: skip
