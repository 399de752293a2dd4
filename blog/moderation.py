"""What happens to a comment: the rules a new or edited comment goes through,
what readers can do to comments, and every moderator action.

`moderate()` is the one decision function. The moderator actions below are
the only way moderation state changes (the queue and the admin both call
them), and each writes a ModerationLog entry with the state before and after.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from blog import notifications, ratelimits, threads
from blog.models import Ban, Comment, CommentLike, Flag, ModerationLog, ModerationSettings, Post
from blog.models.comments import MAX_LEVEL
from blog.rendering import render_markdown

DUPLICATE_WINDOW = timedelta(days=1)
MAX_LENGTH = 10_000
FORM_SALT = "dispatch.comment-form"
FORM_MAX_AGE = timedelta(days=1)
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)

Status = Comment.Status


class CommentRefused(Exception):
    """The comment is not saved; the message tells the reader why."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


@dataclass
class Decision:
    status: str
    reasons: list[str] = field(default_factory=list)


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


def moderate(
    *, author: User, body: str, ip: str | None, form_age: float | None = None, honeypot: str = "",
    editing: Comment | None = None,
) -> Decision:  # fmt: skip
    """Decide what happens to a new or edited comment, with the reasons."""
    rules = ModerationSettings.load()
    if ban := active_ban(author, ip):
        return Decision(Status.REJECTED, [f"banned: {ban.reason}"])
    if editing is None and not _within_rate(author, ip, rules):
        return Decision(Status.REJECTED, ["rate limit"])
    if honeypot:
        return Decision(Status.SPAM, ["honeypot field filled in"])
    if editing is None and (form_age is None or form_age < rules.min_seconds_to_submit):
        return Decision(Status.SPAM, ["form sent too fast, or its timestamp is missing or forged"])
    if _is_duplicate(author, body, editing):
        return Decision(Status.REJECTED, ["duplicate"])
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


REFUSAL_MESSAGES = {
    "rate limit": "You're commenting very fast. Please wait a minute before posting again.",
    "duplicate": "You posted the same comment already today.",
}


def _refuse(decision: Decision) -> None:
    reason = decision.reasons[0]
    if reason.startswith("banned"):
        raise CommentRefused("You can't comment here at the moment. " + reason.removeprefix("banned: ").capitalize())
    raise CommentRefused(REFUSAL_MESSAGES[reason], rate_limited=reason == "rate limit")


# --- What readers do ----------------------------------------------------------


def check_can_comment(post: Post, user: User) -> None:
    from allauth.account.models import EmailAddress

    if not post.is_live:
        raise CommentRefused("This post is not published.")
    if not post.comments_open:
        raise CommentRefused("Comments are closed on this post.")
    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        raise CommentRefused("Verify your e-mail address before commenting (see the link we sent you).")


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise CommentRefused("Write something before posting.")
    if len(body) > MAX_LENGTH:
        raise CommentRefused(f"Comments can be at most {MAX_LENGTH:,} characters (this one has {len(body):,}).")
    return body


def post_comment(
    post: Post, author: User, body: str, *, reply_to: Comment | None = None, ip: str | None = None,
    form_age: float | None = None, honeypot: str = "",
) -> Comment:  # fmt: skip
    """Save a reader's comment with the decision of the rules, or refuse it."""
    check_can_comment(post, author)
    body = _clean_body(body)
    if reply_to is not None and (
        reply_to.post_id != post.pk or not Comment.objects.visible_to(author).filter(pk=reply_to.pk).exists()
    ):
        raise CommentRefused("The comment you are replying to is not on this post, or not visible.")
    decision = moderate(author=author, body=body, ip=ip, form_age=form_age, honeypot=honeypot)
    if decision.status == Status.REJECTED:
        _refuse(decision)
    parent, level = _placement(reply_to)
    with transaction.atomic():
        comment = Comment.objects.create(
            post=post, author=author, reply_to=reply_to, parent=parent, level=level, body=body,
            body_html=render_markdown(body, comment=True), status=decision.status, reasons=decision.reasons, ip=ip,
        )  # fmt: skip
        if decision.status != Status.APPROVED:
            _log(None, comment, f"auto-{decision.status}", "; ".join(decision.reasons), "", decision.status)
        else:
            notifications.comment_approved(comment)
            threads.changed(post.pk)
    return comment


def _placement(reply_to: Comment | None) -> tuple[Comment | None, int]:
    if reply_to is None:
        return None, 1
    if reply_to.level < MAX_LEVEL:
        return reply_to, reply_to.level + 1
    # Flatten: deeper replies sit under the level-4 ancestor.
    anchor = reply_to if reply_to.level == MAX_LEVEL else reply_to.parent
    return anchor, MAX_LEVEL + 1


def edit_comment(comment: Comment, user: User, body: str, *, ip: str | None = None) -> Comment:
    """The author's own edit, within 15 minutes; it goes through the rules again."""
    if not comment.is_editable_by(user):
        raise CommentRefused("You can edit your own comment for 15 minutes after posting it.")
    body = _clean_body(body)
    decision = moderate(author=user, body=body, ip=ip, editing=comment)
    if decision.status == Status.REJECTED:
        _refuse(decision)
    before = comment.status
    comment.body, comment.body_html = body, render_markdown(body, comment=True)
    comment.status, comment.reasons, comment.edited_at = decision.status, decision.reasons, timezone.now()
    comment.save(update_fields=["body", "body_html", "status", "reasons", "edited_at"])
    threads.changed(comment.post_id)
    if decision.status != before:
        _log(None, comment, f"auto-{decision.status}", "after an edit: " + "; ".join(decision.reasons), before,
             decision.status)  # fmt: skip
    return comment


def delete_own_comment(comment: Comment, user: User) -> None:
    """A comment with replies stays as a "deleted" placeholder, so the thread still reads."""
    if comment.author_id != user.pk:
        raise CommentRefused("You can only delete your own comments.")
    if comment.children.exists():
        Comment.objects.filter(pk=comment.pk).update(is_deleted=True, body="", body_html="", is_pinned=False)
    else:
        comment.delete()
    threads.changed(comment.post_id)


def toggle_comment_like(comment: Comment, user: User) -> int:
    with transaction.atomic():
        deleted, _ = CommentLike.objects.filter(comment=comment, user=user).delete()
        if deleted:
            Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") - 1)
        else:
            try:
                with transaction.atomic():
                    CommentLike.objects.create(comment=comment, user=user)
                Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") + 1)
            except IntegrityError:
                pass
    threads.changed(comment.post_id)
    return Comment.objects.values_list("like_count", flat=True).get(pk=comment.pk)


def flag_comment(comment: Comment, user: User, reason: str, note: str = "") -> Comment:
    """A reader's report. Enough of them hide the comment until a moderator looks."""
    if comment.author_id == user.pk:
        raise CommentRefused("You can't flag your own comment.")
    if reason not in Flag.Reason.values:
        raise CommentRefused("Choose why you are flagging this comment.")
    if len(note) > 500:
        raise CommentRefused("Keep the note to 500 characters.")
    threshold = ModerationSettings.load().flags_to_hide
    with transaction.atomic():
        try:
            with transaction.atomic():
                Flag.objects.create(comment=comment, user=user, reason=reason, note=note.strip())
        except IntegrityError:
            raise CommentRefused("You have flagged this comment already; the moderators will look at it.") from None
        Comment.objects.filter(pk=comment.pk).update(flag_count=F("flag_count") + 1)
        comment.refresh_from_db()
        if comment.flag_count >= threshold and comment.status == Status.APPROVED:
            comment.status = Status.HELD
            comment.reasons = [*comment.reasons, f"hidden after {comment.flag_count} flags"]
            comment.save(update_fields=["status", "reasons"])
            _log(None, comment, "auto-hidden", f"{comment.flag_count} readers flagged it", Status.APPROVED, Status.HELD)
            threads.changed(comment.post_id)
    return comment


def pin_comment(comment: Comment, user: User) -> None:
    """The post's author pins one comment to the top (pinning another moves the pin)."""
    if comment.post.author_id != user.pk:
        raise CommentRefused("Only the post's author can pin a comment.")
    if comment.status != Status.APPROVED or comment.is_deleted:
        raise CommentRefused("Only a published comment can be pinned.")
    with transaction.atomic():
        unpin = not comment.is_pinned
        Comment.objects.filter(post=comment.post, is_pinned=True).update(is_pinned=False)
        if unpin:
            Comment.objects.filter(pk=comment.pk).update(is_pinned=True)
    threads.changed(comment.post_id)


# --- Moderator actions ---------------------------------------------------------

ACTIONS = {
    "approve": "Approve",
    "reject": "Reject",
    "spam": "Mark as spam",
    "delete": "Delete",
    "ban": "Ban author",
}


def _log(moderator: User | None, comment: Comment | None, action: str, reason: str, before: str, after: str,
         subject: User | None = None) -> None:  # fmt: skip
    ModerationLog.objects.create(
        moderator=moderator, comment=comment, subject=subject or (comment.author if comment else None),
        action=action, reason=reason[:500], before=before, after=after,
    )  # fmt: skip


def _set_status(moderator: User, comment: Comment, status: str, action: str, reason: str) -> Comment:
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        before = comment.status
        comment.status = status
        if status == Status.APPROVED:
            Flag.objects.filter(comment=comment).delete()
            comment.flag_count = 0
        comment.save(update_fields=["status", "flag_count"])
        _log(moderator, comment, action, reason, before, status)
        if status == Status.APPROVED and before != Status.APPROVED:
            notifications.comment_approved(comment)
        threads.changed(comment.post_id)
    return comment


def approve_comment(moderator: User, comment: Comment, reason: str = "") -> Comment:
    return _set_status(moderator, comment, Status.APPROVED, "approve", reason)


def reject_comment(moderator: User, comment: Comment, reason: str = "") -> Comment:
    return _set_status(moderator, comment, Status.REJECTED, "reject", reason)


def mark_spam(moderator: User, comment: Comment, reason: str = "") -> Comment:
    return _set_status(moderator, comment, Status.SPAM, "spam", reason)


def delete_comment(moderator: User, comment: Comment, reason: str = "") -> Comment:
    """Removed by a moderator: hidden from everyone, kept for the record."""
    return _set_status(moderator, comment, Status.REMOVED, "delete", reason)


def ban_author(moderator: User, comment: Comment, *, days: int | None, reason: str) -> Ban:
    """Bar the comment's author (account, address and IP) for `days`, or for good."""
    if not reason.strip():
        raise CommentRefused("Say why the reader is banned; it is shown to them and kept in the log.")
    until = timezone.now() + timedelta(days=days) if days else None
    with transaction.atomic():
        ban = Ban.objects.create(user=comment.author, email=comment.author.email, ip=comment.ip, reason=reason.strip(),
                                 until=until, created_by=moderator)  # fmt: skip
        after = f"banned {days} days" if days else "banned"
        _log(moderator, comment, "ban", reason, "", after, subject=comment.author)
    return ban


def apply_action(moderator: User, comments: list[Comment], action: str, *, reason: str = "",
                 ban_days: int | None = None) -> int:  # fmt: skip
    """The queue's and the admin's bulk actions: one function per action, one log entry per comment."""
    functions = {"approve": approve_comment, "reject": reject_comment, "spam": mark_spam, "delete": delete_comment}
    if action == "ban":
        for author_comments in {c.author_id: c for c in comments}.values():
            ban_author(moderator, author_comments, days=ban_days, reason=reason)
        return len(comments)
    if action not in functions:
        raise CommentRefused("Choose an action.")
    for comment in comments:
        functions[action](moderator, comment, reason)
    return len(comments)


def author_history(author_ids: set[int]) -> dict[int, dict[str, int]]:
    """Approved and rejected counts per author, for the queue."""
    from django.db.models import Count

    rows = (
        Comment.objects.filter(author_id__in=author_ids)
        .values("author_id")
        .annotate(
            approved=Count("pk", filter=Q(status=Status.APPROVED)),
            rejected=Count("pk", filter=Q(status__in=[Status.REJECTED, Status.SPAM, Status.REMOVED])),
        )
    )
    return {row["author_id"]: row for row in rows}
