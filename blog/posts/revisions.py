"""A post's revisions: a snapshot at every save by hand, checkpoints while a
draft saves itself, the unsaved edits of a live post kept aside until the
author updates it, and comparing and restoring any of them.

A live (or scheduled) post never changes by itself: its autosave goes into its
one AUTOSAVE revision, which the editor opens with, and which pressing Update
turns into the post (and a SAVED revision)."""

import difflib
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from blog.models import Post, PostRevision
from blog.models.revisions import REVISED_FIELDS

# While a draft saves itself, a checkpoint is kept this often at most.
CHECKPOINT_EVERY = timedelta(minutes=10)
LABELS = {"title": "Title", "subtitle": "Subtitle", "body": "Body", "excerpt": "Excerpt"}


def text_of(post: Post) -> dict[str, str]:
    return {name: getattr(post, name) for name in REVISED_FIELDS}


def saved(post: Post) -> "list[PostRevision]":
    return list(post.revisions.filter(kind=PostRevision.Kind.SAVED).select_related("saved_by"))


def record(post: Post, user: User | None) -> PostRevision | None:
    """Keep the post's text as now saved, unless the newest revision already has it."""
    newest = post.revisions.filter(kind=PostRevision.Kind.SAVED).first()
    if newest is not None and newest.text() == text_of(post):
        return None
    return PostRevision.objects.create(post=post, saved_by=user, **text_of(post))


def checkpoint(post: Post, user: User) -> PostRevision | None:
    """A draft that saves itself keeps a revision every CHECKPOINT_EVERY."""
    newest = post.revisions.filter(kind=PostRevision.Kind.SAVED).first()
    if newest is not None and timezone.now() - newest.created_at < CHECKPOINT_EVERY:
        return None
    return record(post, user)


def pending(post: Post) -> PostRevision | None:
    """A live post's autosaved edits, not yet on the site."""
    if not post.pk:
        return None
    return post.revisions.filter(kind=PostRevision.Kind.AUTOSAVE).first()


def keep_pending(post: Post, user: User, text: dict[str, str]) -> PostRevision:
    """Autosave of a live post: into its pending revision, never into the post."""
    revision, _ = PostRevision.objects.update_or_create(
        post=post, kind=PostRevision.Kind.AUTOSAVE, defaults={**text, "saved_by": user, "created_at": timezone.now()}
    )
    return revision


def discard_pending(post: Post) -> int:
    return post.revisions.filter(kind=PostRevision.Kind.AUTOSAVE).delete()[0]


def updated_by_hand(post: Post, user: User) -> None:
    """After Save or Update: the text is kept, and a live post's pending edits are spent."""
    record(post, user)
    discard_pending(post)


def restore(post: Post, revision: PostRevision, user: User) -> Post:
    """Put a revision's text back into the post (live at once if the post is),
    keeping what it replaces as a revision of its own."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        record(post, user)
        for name, value in revision.text().items():
            setattr(post, name, value)
        post.save()
        updated_by_hand(post, user)
    return post


@dataclass(frozen=True)
class Line:
    kind: str  # "same", "added", "removed" or "gap" (unchanged lines left out)
    text: str


@dataclass(frozen=True)
class FieldDiff:
    label: str
    lines: list[Line]


def compare(old: dict[str, str], new: dict[str, str], context: int = 2) -> list[FieldDiff]:
    """Line by line, field by field: what changes from `old` to `new`; unchanged fields are left out."""
    changes = []
    for name in REVISED_FIELDS:
        before, after = old.get(name, "").splitlines(), new.get(name, "").splitlines()
        if before == after:
            continue
        lines: list[Line] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for group in matcher.get_grouped_opcodes(context):
            if lines:
                lines.append(Line("gap", ""))
            for op, a1, a2, b1, b2 in group:
                if op == "equal":
                    lines.extend(Line("same", text) for text in before[a1:a2])
                    continue
                lines.extend(Line("removed", text) for text in before[a1:a2])
                lines.extend(Line("added", text) for text in after[b1:b2])
        changes.append(FieldDiff(LABELS[name], lines))
    return changes
