"""What readers do to comments: post, reply, edit, delete, like, flag, pin.

A new or edited comment goes through the rules in blog/discussion/moderation.py, which
decide whether it is published, held or refused; every change here bumps the post's
version (threads.changed, threads.likes_changed), which drops its cached comment
pages (blog/discussion/commentpages.py). Nothing here queues work: a comment
published at once comes back with the notices that must go out, and the caller
queues them.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from blog.discussion import bans, counters, moderation, notifications, threads
from blog.discussion.moderation import Action, CommentRefused
from blog.discussion.notifications import Notice
from blog.models import Comment, CommentLike, Flag, Post
from blog.models.comments import EDIT_WINDOW_MINUTES, MAX_LEVEL
from blog.shared import events, ratelimits
from blog.shared.rendering import render_markdown

MAX_LENGTH = 10_000
FLAG_NOTE_LIMIT = 500
FLAG_RATES = ("3/m", "10/h")  # per reader: a handful of reports is help, a stream is an attack
EDIT_REFUSED = f"You can edit your own comment for {EDIT_WINDOW_MINUTES} minutes after posting it."

Status = Comment.Status


@dataclass(frozen=True)
class Posted:
    """A saved comment, and the notification e-mails its publication calls for."""

    comment: Comment
    notices: list[Notice]


def check_can_comment(post: Post, user: User) -> None:
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


def reply_target(raw_id: str) -> Comment | None:
    """The comment a form's `reply_to` field names (empty: a new thread)."""
    if not raw_id:
        return None
    reply_to = Comment.objects.filter(pk=raw_id).first() if raw_id.isdigit() else None
    if reply_to is None:
        raise CommentRefused("The comment you are replying to does not exist.")
    return reply_to


def _check_reply_to(post: Post, author: User, reply_to: Comment) -> None:
    if reply_to.post_id != post.pk or not Comment.objects.visible_to(author).filter(pk=reply_to.pk).exists():
        raise CommentRefused("The comment you are replying to is not on this post, or not visible.")


def post_comment(
    post: Post, author: User, body: str, *, reply_to: Comment | None = None, ip: str | None = None,
    form_age: float | None = None, honeypot: str = "",
) -> Posted:  # fmt: skip
    """Save a reader's comment with the decision of the rules, or refuse it."""
    check_can_comment(post, author)
    body = _clean_body(body)
    if reply_to is not None:
        _check_reply_to(post, author, reply_to)
    decision = moderation.moderate(author=author, body=body, ip=ip, form_age=form_age, honeypot=honeypot)
    decision.raise_if_refused()
    parent, level = _placement(reply_to)
    with transaction.atomic():
        comment = Comment.objects.create(
            post=post, author=author, reply_to=reply_to, parent=parent, level=level, body=body,
            body_html=render_markdown(body, comment=True), status=decision.status, reasons=decision.reasons, ip=ip,
        )  # fmt: skip
        events.comment_event(events.Event.COMMENT_POSTED, comment)
        if decision.status != Status.APPROVED:
            moderation.log(None, comment, Action.by_rules(decision.status), "; ".join(decision.reasons), "",
                           decision.status)  # fmt: skip
            return Posted(comment, [])
        threads.changed(post.pk)
        return Posted(comment, notifications.notices_for(comment))


def _placement(reply_to: Comment | None) -> tuple[Comment | None, int]:
    if reply_to is None:
        return None, 1
    if reply_to.level < MAX_LEVEL:
        return reply_to, reply_to.level + 1
    # Flatten: deeper replies sit under the level-4 ancestor.
    anchor = reply_to if reply_to.level == MAX_LEVEL else reply_to.parent
    return anchor, MAX_LEVEL + 1


def edit_comment(comment: Comment, user: User, body: str, *, ip: str | None = None) -> Comment:
    """The author's own edit, within the edit window; it goes through the rules again."""
    if not comment.is_editable_by(user):
        raise CommentRefused(EDIT_REFUSED)
    body = _clean_body(body)
    decision = moderation.moderate(author=user, body=body, ip=ip, editing=comment)
    decision.raise_if_refused()
    before = comment.status
    moderation.keep_revision(comment, user)
    comment.body, comment.body_html = body, render_markdown(body, comment=True)
    comment.status, comment.reasons, comment.edited_at = decision.status, decision.reasons, timezone.now()
    comment.save(update_fields=["body", "body_html", "status", "reasons", "edited_at"])
    threads.changed(comment.post_id)
    if decision.status != before:
        moderation.log(None, comment, Action.by_rules(decision.status),
                       "after an edit: " + "; ".join(decision.reasons), before, decision.status)  # fmt: skip
    return comment


def delete_own_comment(comment: Comment, user: User) -> None:
    """Hidden from readers (a "deleted" placeholder while it has replies), kept
    for the moderators. Not while it is held or flagged: that is evidence."""
    if comment.author_id != user.pk:
        raise CommentRefused("You can only delete your own comments.")
    if comment.status == Status.HELD or comment.flag_count:
        raise CommentRefused("This comment is with the moderators; it can be deleted once they have looked at it.")
    Comment.objects.filter(pk=comment.pk).update(is_deleted=True, is_pinned=False)
    threads.changed(comment.post_id)


def _check_not_banned(user: User, ip: str | None) -> None:
    if refusal := bans.refusal(user, ip):
        raise CommentRefused(refusal)


def toggle_comment_like(comment: Comment, user: User, *, ip: str | None = None) -> int:
    """Like a comment, or take the like back; returns the new count."""
    _check_not_banned(user, ip)
    with transaction.atomic():
        if not counters.remove_counted(CommentLike, comment, "like_count", comment=comment, user=user):
            counters.add_counted(CommentLike, comment, "like_count", comment=comment, user=user)
    threads.likes_changed(comment.post_id)
    return counters.current(comment, "like_count")


def flag_comment(comment: Comment, user: User, reason: str, note: str = "", *, ip: str | None = None) -> Comment:
    """A reader's report. Enough weighty ones hide the comment until a moderator looks."""
    if comment.author_id == user.pk:
        raise CommentRefused("You can't flag your own comment.")
    _check_not_banned(user, ip)
    if not all([ratelimits.hit(f"flag:user:{user.pk}:{rate}", rate) for rate in FLAG_RATES]):
        raise CommentRefused("You're flagging very fast. Please wait before flagging more.", rate_limited=True)
    if reason not in Flag.Reason.values:
        raise CommentRefused("Choose why you are flagging this comment.")
    if len(note) > FLAG_NOTE_LIMIT:
        raise CommentRefused(f"Keep the note to {FLAG_NOTE_LIMIT} characters.")
    with transaction.atomic():
        fields = {"comment": comment, "user": user, "reason": reason, "note": note.strip()}
        if not counters.add_counted(Flag, comment, "flag_count", **fields):
            raise CommentRefused("You have flagged this comment already; the moderators will look at it.")
        comment.refresh_from_db()
        moderation.hide_after_flags(comment)
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
