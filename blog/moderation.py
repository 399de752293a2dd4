"""Moderation: the rules a new or edited comment goes through, every
moderator action, and the moderators' digest e-mail.

`moderate()` is the one decision function. The moderator actions below are
the only way a moderator changes a comment's state (the queue and the admin
both call them), and each writes a ModerationLog entry with the state before
and after. Nothing here queues work: an action that makes comments public
returns the notices that must go out, and the caller queues them.
"""

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import MODERATORS
from blog import notifications, ratelimits, threads
from blog.models import Ban, Comment, Flag, ModerationLog, ModerationSettings
from blog.notifications import Kind, Notice
from blog.site import absolute

DUPLICATE_WINDOW = timedelta(days=1)
FORM_SALT = "dispatch.comment-form"
FORM_MAX_AGE = timedelta(days=1)
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
MODERATION_DIGEST_EVERY = timedelta(minutes=10)
DIGEST_LIMIT = 100

Status = Comment.Status
Action = ModerationLog.Action


class CommentRefused(Exception):
    """The comment is not saved (or the action not done); the message tells the reader why."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


class Refusal(enum.Enum):
    """Why the rules turn a comment away without saving it."""

    BANNED = "banned"
    RATE_LIMIT = "rate limit"
    DUPLICATE = "duplicate"

    def refused(self, detail: str = "") -> CommentRefused:
        if self is Refusal.BANNED:
            return CommentRefused("You can't comment here at the moment. " + detail.capitalize())
        if self is Refusal.RATE_LIMIT:
            return CommentRefused(
                "You're commenting very fast. Please wait a minute before posting again.", rate_limited=True
            )
        return CommentRefused("You posted the same comment already today.")


@dataclass
class Decision:
    status: str
    reasons: list[str] = field(default_factory=list)
    refusal: Refusal | None = None  # set when status is REJECTED

    def raise_if_refused(self) -> None:
        if self.refusal is not None:
            detail = self.reasons[0].removeprefix(f"{Refusal.BANNED.value}: ") if self.reasons else ""
            raise self.refusal.refused(detail)


# --- The rules --------------------------------------------------------------


def form_token() -> str:
    """Signed time the comment form was shown (rule 2: too-fast posting is a bot)."""
    return signing.dumps(timezone.now().timestamp(), salt=FORM_SALT)


def seconds_since_form(token: str) -> float | None:
    try:
        shown = signing.loads(token, salt=FORM_SALT, max_age=FORM_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return timezone.now().timestamp() - float(shown)


def active_ban(user: User, ip: str | None) -> Ban | None:
    match = Q(user=user) | Q(email__iexact=user.email)
    if ip:
        match |= Q(ip=ip)
    return Ban.objects.active().filter(match).first()


def _contains(text: str, phrases: list[str]) -> str | None:
    lowered = text.lower()
    return next((p for p in phrases if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", lowered)), None)


def _refuse(refusal: Refusal, reason: str | None = None) -> Decision:
    return Decision(Status.REJECTED, [reason or refusal.value], refusal)


def moderate(
    *, author: User, body: str, ip: str | None, form_age: float | None = None, honeypot: str = "",
    editing: Comment | None = None,
) -> Decision:  # fmt: skip
    """Decide what happens to a new or edited comment, with the reasons."""
    rules = ModerationSettings.load()
    if ban := active_ban(author, ip):
        return _refuse(Refusal.BANNED, f"{Refusal.BANNED.value}: {ban.reason}")
    if editing is None and not _within_rate(author, ip, rules):
        return _refuse(Refusal.RATE_LIMIT)
    if honeypot:
        return Decision(Status.SPAM, ["honeypot field filled in"])
    if editing is None and (form_age is None or form_age < rules.min_seconds_to_submit):
        return Decision(Status.SPAM, ["form sent too fast, or its timestamp is missing or forged"])
    if _is_duplicate(author, body, editing):
        return _refuse(Refusal.DUPLICATE)
    if word := _contains(body, ModerationSettings.phrases(rules.disallowed_words)):
        return Decision(Status.SPAM, [f"contains a disallowed phrase: “{word}”"])
    reasons = []
    if word := _contains(body, ModerationSettings.phrases(rules.moderation_words)):
        reasons.append(f"contains a phrase held for review: “{word}”")
    if (links := len(LINK.findall(body))) > rules.max_links:
        reasons.append(f"{links} links (more than {rules.max_links})")
    if rules.hold_first_comment and not Comment.objects.filter(author=author, status=Status.APPROVED).exists():
        reasons.append("first comment from this reader")
    return Decision(Status.HELD, reasons) if reasons else Decision(Status.APPROVED)


def _within_rate(author: User, ip: str | None, rules: ModerationSettings) -> bool:
    keys = [f"comment:user:{author.pk}"] + ([f"comment:ip:{ip}"] if ip else [])
    rates = [f"{rules.comments_per_minute}/m", f"{rules.comments_per_hour}/h"]
    return all([ratelimits.hit(f"{key}:{rate}", rate) for key in keys for rate in rates])


def _is_duplicate(author: User, body: str, editing: Comment | None) -> bool:
    recent = Comment.objects.filter(author=author, created_at__gte=timezone.now() - DUPLICATE_WINDOW)
    if editing is not None:
        recent = recent.exclude(pk=editing.pk)
    return any(" ".join(c.split()) == " ".join(body.split()) for c in recent.values_list("body", flat=True))


def hide_after_flags(comment: Comment) -> bool:
    """Enough readers flagged an approved comment: hold it until a moderator looks."""
    if comment.flag_count < ModerationSettings.load().flags_to_hide or comment.status != Status.APPROVED:
        return False
    comment.status = Status.HELD
    comment.reasons = [*comment.reasons, f"hidden after {comment.flag_count} flags"]
    comment.save(update_fields=["status", "reasons"])
    log(None, comment, Action.AUTO_HIDDEN, f"{comment.flag_count} readers flagged it", Status.APPROVED, Status.HELD)
    threads.changed(comment.post_id)
    return True


# --- The log -------------------------------------------------------------------


def log(
    moderator: User | None, comment: Comment | None, action: Action, reason: str, before: str, after: str,
    subject: User | None = None,
) -> None:  # fmt: skip
    """Record a decision; `moderator` is None for the rules."""
    ModerationLog.objects.create(
        moderator=moderator, comment=comment, subject=subject or (comment.author if comment else None),
        action=action, reason=reason[:500], before=before, after=after,
    )  # fmt: skip


# --- Moderator actions ---------------------------------------------------------

# The queue's buttons, in order (keys 1-5 press them).
ACTIONS = [Action.APPROVE, Action.REJECT, Action.SPAM, Action.DELETE, Action.BAN]


def _set_status(moderator: User, comment: Comment, status: str, action: Action, reason: str) -> list[Notice]:
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("post").get(pk=comment.pk)
        before = comment.status
        comment.status = status
        if status == Status.APPROVED:
            Flag.objects.filter(comment=comment).delete()
            comment.flag_count = 0
        comment.save(update_fields=["status", "flag_count"])
        log(moderator, comment, action, reason, before, status)
        threads.changed(comment.post_id)
    became_public = status == Status.APPROVED and before != Status.APPROVED
    return notifications.notices_for(comment) if became_public else []


def approve_comment(moderator: User, comment: Comment, reason: str = "") -> list[Notice]:
    """Publish a held comment; returns the notifications that must go out."""
    return _set_status(moderator, comment, Status.APPROVED, Action.APPROVE, reason)


def reject_comment(moderator: User, comment: Comment, reason: str = "") -> list[Notice]:
    return _set_status(moderator, comment, Status.REJECTED, Action.REJECT, reason)


def mark_spam(moderator: User, comment: Comment, reason: str = "") -> list[Notice]:
    return _set_status(moderator, comment, Status.SPAM, Action.SPAM, reason)


def delete_comment(moderator: User, comment: Comment, reason: str = "") -> list[Notice]:
    """Removed by a moderator: hidden from everyone, kept for the record."""
    return _set_status(moderator, comment, Status.REMOVED, Action.DELETE, reason)


def ban_author(moderator: User, comment: Comment, *, days: int | None, reason: str) -> Ban:
    """Bar the comment's author (account, address and IP) for `days`, or for good."""
    if not reason.strip():
        raise CommentRefused("Say why the reader is banned; it is shown to them and kept in the log.")
    until = timezone.now() + timedelta(days=days) if days else None
    with transaction.atomic():
        ban = Ban.objects.create(user=comment.author, email=comment.author.email, ip=comment.ip, reason=reason.strip(),
                                 until=until, created_by=moderator)  # fmt: skip
        after = f"banned {days} days" if days else "banned"
        log(moderator, comment, Action.BAN, reason, "", after, subject=comment.author)
    return ban


STATUS_ACTIONS = {
    Action.APPROVE: approve_comment,
    Action.REJECT: reject_comment,
    Action.SPAM: mark_spam,
    Action.DELETE: delete_comment,
}


def apply_action(moderator: User, comments: list[Comment], action: str, *, reason: str = "",
                 ban_days: int | None = None) -> list[Notice]:  # fmt: skip
    """The queue's and the admin's bulk actions: one function per action, one log entry per comment.

    Returns the notifications that must go out for comments made public."""
    if action == Action.BAN:
        for author_comment in {c.author_id: c for c in comments}.values():
            ban_author(moderator, author_comment, days=ban_days, reason=reason)
        return []
    if action not in STATUS_ACTIONS:
        raise CommentRefused("Choose an action.")
    act = STATUS_ACTIONS[Action(action)]
    return [notice for comment in comments for notice in act(moderator, comment, reason)]


def author_history(author_ids: set[int]) -> dict[int, dict[str, int]]:
    """Approved and rejected counts per author, for the queue."""
    rows = (
        Comment.objects.filter(author_id__in=author_ids)
        .values("author_id")
        .annotate(
            approved=Count("pk", filter=Q(status=Status.APPROVED)),
            rejected=Count("pk", filter=Q(status__in=[Status.REJECTED, Status.SPAM, Status.REMOVED])),
        )
    )
    return {row["author_id"]: {"approved": row["approved"], "rejected": row["rejected"]} for row in rows}


def waiting() -> QuerySet[Comment]:
    """What the queue lists: held comments, and approved ones readers flagged; newest first."""
    return (
        Comment.objects.filter(Q(status=Status.HELD) | Q(flag_count__gt=0, status=Status.APPROVED))
        .select_related("post", "author")
        .order_by("-created_at")
    )


# --- The moderators' digest ---------------------------------------------------


def moderators() -> QuerySet[User]:
    """Who gets the digest: moderators and staff who have not turned it off."""
    return User.objects.filter(
        Q(groups__name=MODERATORS) | Q(is_staff=True), is_active=True, email_on_moderation=True
    ).distinct()


def moderation_digest(now: datetime | None = None) -> list[EmailMultiAlternatives]:
    """At most one e-mail per moderator every ten minutes, when something new
    arrived since the last one and something still waits."""
    now = now or timezone.now()
    rules = ModerationSettings.load()
    since = rules.moderators_notified_at
    if since and now - since < MODERATION_DIGEST_EVERY:
        return []
    arrivals = ModerationLog.objects.filter(moderator=None, action__in=[Action.AUTO_HELD, Action.AUTO_HIDDEN])
    if since:
        arrivals = arrivals.filter(created_at__gt=since)
    if not arrivals.exists():
        return []
    held = list(waiting().filter(status=Status.HELD)[:DIGEST_LIMIT])
    if not held:
        return []  # arrivals were dealt with already: no empty digest
    ModerationSettings.objects.filter(pk=rules.pk).update(moderators_notified_at=now)
    context = {"comments": held, "queue_url": absolute(reverse("blog:moderation_queue"))}
    return [
        notifications.notification_message(moderator, Kind.MODERATION, "moderation-digest", context)
        for moderator in moderators()
    ]
