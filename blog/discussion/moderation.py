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
from blog.discussion import bans, notifications, threads
from blog.discussion.notifications import Kind, Notice
from blog.models import Ban, Comment, CommentRevision, Flag, ModerationLog, ModerationSettings, Restack
from blog.shared import events, ratelimits
from blog.shared.rendering import link_count, render_markdown
from blog.shared.site import absolute

DUPLICATE_WINDOW = timedelta(days=1)
FORM_SALT = "dispatch.comment-form"
FORM_MAX_AGE = timedelta(days=1)
MODERATION_DIGEST_EVERY = timedelta(minutes=10)
DIGEST_LIMIT = 100
# Flags hide a comment only when they come from accounts at least this old
# whose earlier flags no moderator rejected; throwaway accounts weigh nothing.
FLAG_WEIGHT_AFTER = timedelta(days=3)
IP_BAN_DAYS = {"1": 1, "7": 7}  # an address ban is short: offices and carriers share addresses

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
    FORM_CHECK = "form check"

    def refused(self, detail: str = "") -> CommentRefused:
        if self in (Refusal.BANNED, Refusal.FORM_CHECK):
            return CommentRefused(detail)
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
            detail = self.reasons[0].removeprefix(f"{self.refusal.value}: ") if self.reasons else ""
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
    if refusal := bans.refusal(author, ip):
        return _refuse(Refusal.BANNED, f"{Refusal.BANNED.value}: {refusal}")
    if editing is None and (problem := _form_problem(form_age, honeypot, rules)):
        # Nothing is saved and nothing counts against the reader: the form comes back with their text.
        return _refuse(Refusal.FORM_CHECK, f"{Refusal.FORM_CHECK.value}: {problem}")
    if editing is None and not _within_rate(author, ip, rules):
        return _refuse(Refusal.RATE_LIMIT)
    if _is_duplicate(author, body, editing):
        return _refuse(Refusal.DUPLICATE)
    if word := _contains(body, ModerationSettings.phrases(rules.disallowed_words)):
        return Decision(Status.SPAM, [f"contains a disallowed phrase: “{word}”"])
    reasons = []
    if word := _contains(body, ModerationSettings.phrases(rules.moderation_words)):
        reasons.append(f"contains a phrase held for review: “{word}”")
    if (links := link_count(render_markdown(body, comment=True))) > rules.max_links:
        reasons.append(f"{links} links (more than {rules.max_links})")
    if rules.hold_first_comment and not Comment.objects.filter(author=author, status=Status.APPROVED).exists():
        reasons.append("first comment from this reader")
    if editing is None and form_age is not None and form_age < rules.min_seconds_to_submit:
        reasons.append(f"sent {form_age:.0f} s after the form was shown")
    return Decision(Status.HELD, reasons) if reasons else Decision(Status.APPROVED)


def moderate_note(*, author: User, note: str) -> Decision:
    """A re-stack note goes through the comment rules that read text: the
    word lists and the link limit (a note is public on the reader's profile)."""
    rules = ModerationSettings.load()
    if word := _contains(note, ModerationSettings.phrases(rules.disallowed_words)):
        return Decision(Status.SPAM, [f"contains a disallowed phrase: “{word}”"])
    reasons = []
    if word := _contains(note, ModerationSettings.phrases(rules.moderation_words)):
        reasons.append(f"contains a phrase held for review: “{word}”")
    if (links := link_count(render_markdown(note, comment=True))) > rules.max_links:
        reasons.append(f"{links} links (more than {rules.max_links})")
    return Decision(Status.HELD, reasons) if reasons else Decision(Status.APPROVED)


def _form_problem(form_age: float | None, honeypot: str, rules: ModerationSettings) -> str | None:
    """Why the form must be sent again, if it must: its signed time is missing
    or more than a day old, or the hidden field was filled in (bots, and the
    odd browser autofill). A form sent back quickly is held instead (see
    `moderate`): a hurried person who pasted a prepared reply is no bot."""
    if form_age is None:
        return "This form was open for a long time. Your comment is below: please send it again."
    if honeypot:
        return "That was quick! Please check your comment below and send it again."
    return None


def _within_rate(author: User, ip: str | None, rules: ModerationSettings) -> bool:
    keys = [f"comment:user:{author.pk}"] + ([f"comment:ip:{ratelimits.address_key(ip)}"] if ip else [])
    rates = [f"{rules.comments_per_minute}/m", f"{rules.comments_per_hour}/h"]
    return all([ratelimits.hit(f"{key}:{rate}", rate) for key in keys for rate in rates])


def _is_duplicate(author: User, body: str, editing: Comment | None) -> bool:
    recent = Comment.objects.filter(author=author, created_at__gte=timezone.now() - DUPLICATE_WINDOW)
    if editing is not None:
        recent = recent.exclude(pk=editing.pk)
    return any(" ".join(c.split()) == " ".join(body.split()) for c in recent.values_list("body", flat=True))


def weighty_flaggers(comment: Comment) -> list[str]:
    """Handles of the readers whose open flags on `comment` count towards
    hiding it: accounts older than FLAG_WEIGHT_AFTER that no moderator ever
    rejected a flag of."""
    rejected = Flag.objects.filter(status=Flag.Status.REJECTED).values("user")
    flags = Flag.objects.filter(
        comment=comment, status=Flag.Status.OPEN, user__date_joined__lte=timezone.now() - FLAG_WEIGHT_AFTER
    ).exclude(user__in=rejected)
    return list(flags.order_by("created_at").values_list("user__username", flat=True))


def is_shielded_from_flags(comment: Comment) -> bool:
    """Flags never hide a moderator's, a staff member's or the post author's comment;
    they still reach the queue."""
    author = comment.author
    return comment.author_id == comment.post.author_id or author.is_staff or author.has_perm("blog.moderate_comment")


def hide_after_flags(comment: Comment) -> bool:
    """Enough weighty flags on an approved comment: hold it until a moderator looks."""
    if comment.status != Status.APPROVED or is_shielded_from_flags(comment):
        return False
    flaggers = weighty_flaggers(comment)
    if len(flaggers) < ModerationSettings.load().flags_to_hide:
        return False
    comment.status = Status.HELD
    comment.reasons = [*comment.reasons, f"hidden after {len(flaggers)} flags"]
    comment.save(update_fields=["status", "reasons"])
    who = ", ".join(f"@{handle}" for handle in flaggers)
    log(None, comment, Action.AUTO_HIDDEN, f"{len(flaggers)} readers flagged it: {who}", Status.APPROVED, Status.HELD)
    threads.changed(comment.post_id)
    return True


# --- The log -------------------------------------------------------------------


def log(
    moderator: User | None, comment: Comment | None, action: Action, reason: str, before: str, after: str,
    subject: User | None = None,
) -> None:  # fmt: skip
    """Record a decision; `moderator` is None for the rules. The handle is
    kept on the row, so the record still names a moderator whose account is gone."""
    ModerationLog.objects.create(
        moderator=moderator, moderator_handle=moderator.username if moderator else "", comment=comment,
        subject=subject or (comment.author if comment else None), action=action, reason=reason[:500],
        before=before[:20], after=after[:20],
    )  # fmt: skip


# --- Moderator actions ---------------------------------------------------------

# The queue's buttons, in order (keys 1-5 press them).
ACTIONS = [Action.APPROVE, Action.REJECT, Action.SPAM, Action.DELETE, Action.BAN]


def _set_status(moderator: User, comment: Comment, status: str, action: Action, reason: str) -> list[Notice]:
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("post").get(pk=comment.pk)
        before = comment.status
        comment.status = status
        # The flags are kept with the verdict: approving rejects them (and their
        # senders' later flags weigh nothing), taking the comment down upholds them.
        verdict = Flag.Status.REJECTED if status == Status.APPROVED else Flag.Status.UPHELD
        Flag.objects.filter(comment=comment, status=Flag.Status.OPEN).update(status=verdict)
        comment.flag_count = 0
        comment.save(update_fields=["status", "flag_count"])
        log(moderator, comment, action, reason, before, status)
        if Status.APPROVED in (before, status):  # held, rejected and spam show on no shared page
            threads.changed(comment.post_id)
    became_public = status == Status.APPROVED and before != Status.APPROVED
    if became_public:
        events.comment_event(events.Event.COMMENT_APPROVED, comment)
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


def ban_author(
    moderator: User, comment: Comment, *, days: int | None, reason: str, ip_days: int | None = None
) -> list[Ban]:
    """Bar the comment's author (account and e-mail address) for `days`, or
    for good; their comments waiting in the queue leave it as rejected. With
    `ip_days`, also the address the comment came from, for that short while."""
    if not reason.strip():
        raise CommentRefused("Say why the reader is banned; it is shown to them and kept in the log.")
    author = comment.author
    until = timezone.now() + timedelta(days=days) if days else None
    with transaction.atomic():
        made = [Ban.objects.create(
            user=author, handle=author.username, email=author.email, ip=comment.ip,  # the IP is kept, not matched
            reason=reason.strip(), until=until, created_by=moderator,
        )]  # fmt: skip
        log(moderator, comment, Action.BAN, reason, "", f"banned {days} days" if days else "banned", subject=author)
        if ip_days and comment.ip:
            ip_until = timezone.now() + timedelta(days=ip_days)
            made.append(Ban.objects.create(ip=comment.ip, reason=reason.strip(), until=ip_until, created_by=moderator))
            log(moderator, comment, Action.BAN, f"address {comment.ip}: {reason}", "", f"IP banned {ip_days} days",
                subject=author)  # fmt: skip
        for held in Comment.objects.filter(author=author, status=Status.HELD):
            _set_status(moderator, held, Status.REJECTED, Action.REJECT, f"the author was banned: {reason}")
    return made


def change_ban(moderator: User, ban: Ban, *, reason: str, until: datetime | None) -> Ban:
    """A moderator corrects a ban's reason or end; logged with both ends."""
    if not reason.strip():
        raise CommentRefused("A ban needs a reason.")
    before = ban.until.strftime("%Y-%m-%d %H:%M %Z") if ban.until else "permanent"
    after = until.strftime("%Y-%m-%d %H:%M %Z") if until else "permanent"
    with transaction.atomic():
        Ban.objects.filter(pk=ban.pk).update(reason=reason.strip(), until=until)
        log(moderator, None, Action.BAN_CHANGED, f"{ban}: {reason.strip()}", before, after, subject=ban.user)
    ban.refresh_from_db()
    return ban


def lift_ban(moderator: User, ban: Ban, *, reason: str = "") -> None:
    """End a ban now; it stays on record, lifted."""
    with transaction.atomic():
        if Ban.objects.filter(pk=ban.pk, lifted_at__isnull=True).update(lifted_at=timezone.now()):
            log(moderator, None, Action.BAN_LIFTED, f"{ban}: {reason}".rstrip(": "), "banned", "lifted",
                subject=ban.user)  # fmt: skip


def edit_as_moderator(moderator: User, comment: Comment, body: str, *, reason: str) -> Comment:
    """A moderator's edit (from the admin): rendered again, the old text kept, logged."""
    body = body.strip()
    if not body:
        raise CommentRefused("A comment cannot be empty; delete it instead.")
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        if body == comment.body:
            return comment
        keep_revision(comment, moderator)
        comment.body, comment.body_html = body, render_markdown(body, comment=True)
        comment.save(update_fields=["body", "body_html"])
        log(moderator, comment, Action.EDIT, reason or "edited by a moderator", comment.status, comment.status)
    threads.changed(comment.post_id)
    return comment


def publish_note(moderator: User, item: Restack) -> None:
    """Show a held re-stack note on its writer's profile; logged."""
    item.note_held = False
    item.save(update_fields=["note_held"])  # saved, not updated: the page cache hears of it
    log(moderator, None, Action.APPROVE, f"re-stack note on “{item.post}”", "held", "approved", subject=item.user)


def keep_revision(comment: Comment, by: User) -> None:
    """Keep the comment's current text before it changes, for the moderators."""
    CommentRevision.objects.create(
        comment=comment, body=comment.body, written_at=comment.edited_at or comment.created_at, replaced_by=by.username
    )


STATUS_ACTIONS = {
    Action.APPROVE: approve_comment,
    Action.REJECT: reject_comment,
    Action.SPAM: mark_spam,
    Action.DELETE: delete_comment,
}


def apply_action(moderator: User, comments: list[Comment], action: str, *, reason: str = "",
                 ban_days: int | None = None, ip_ban_days: int | None = None) -> list[Notice]:  # fmt: skip
    """The queue's and the admin's bulk actions: one function per action, one log entry per comment.

    Returns the notifications that must go out for comments made public."""
    if action == Action.BAN:
        for author_comment in {c.author_id: c for c in comments}.values():
            ban_author(moderator, author_comment, days=ban_days, reason=reason, ip_days=ip_ban_days)
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


# User.objects.with_perm needs the backend named when several are configured (allauth's too).
PERMISSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


def moderators() -> QuerySet[User]:
    """Who gets the digest: holders of the moderation permission (by role,
    directly, or as superuser) who have not turned it off; not all staff."""
    holders = User.objects.with_perm("blog.moderate_comment", backend=PERMISSION_BACKEND)
    return holders.filter(email_on_moderation=True)


def moderation_digest(now: datetime | None = None) -> list[EmailMultiAlternatives]:
    """At most one e-mail per moderator every ten minutes, when something new
    arrived since the last one and something still waits."""
    now = now or timezone.now()
    rules = ModerationSettings.load()
    since = rules.moderators_notified_at
    if since and now - since < MODERATION_DIGEST_EVERY:
        return []
    arrivals = ModerationLog.objects.filter(moderator=None, action__in=[Action.AUTO_HELD, Action.AUTO_HIDDEN])
    # A reader's flag that does not hide the comment writes no log entry, but
    # the comment waits in the queue all the same.
    flags = Flag.objects.filter(status=Flag.Status.OPEN)
    if since:
        arrivals, flags = arrivals.filter(created_at__gt=since), flags.filter(created_at__gt=since)
    if not (arrivals.exists() or flags.exists()):
        return []
    held = list(waiting()[:DIGEST_LIMIT])
    if not held:
        return []  # arrivals were dealt with already: no empty digest
    ModerationSettings.objects.filter(pk=rules.pk).update(moderators_notified_at=now)
    context = {"comments": held, "queue_url": absolute(reverse("blog:moderation_queue"))}
    return [
        notifications.notification_message(moderator, Kind.MODERATION, "moderation-digest", context)
        for moderator in moderators()
    ]
