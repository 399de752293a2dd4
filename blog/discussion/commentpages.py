"""A post's comments as pages of threads, rendered once per version.

What every reader sees alike (each comment's author line, body and place in
its thread) is rendered once per version of the post's comments and kept in
the shared cache. What belongs to one reader is added per request, as plain
string joins: the like/reply/edit/delete/flag/pin buttons with their state,
and the reader's own comments awaiting moderation, right under the comment
they answer. No template is rendered per comment per request.

Pages hold whole threads (a top-level comment with all its replies), as
many as fit in PAGE_COMMENTS comments, or one longer thread. The next page
starts after a thread's key (`?after=<top-level comment id>`), so a page
does not shift when new threads arrive before it; `?comment=<id>` opens the
page that holds a comment, which is where a comment's permalink leads.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache as cache_forever
from typing import TypedDict

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from blog import pagecache
from blog.discussion import readerstate, threads
from blog.models import Comment, Post
from blog.models.comments import EDIT_WINDOW

PAGE_COMMENTS = 100
SHARED_TIMEOUT = 300
# The id of the page's one form that the comments' like buttons submit (blog/comments/_like_form.html).
LIKE_FORM = "comment-like-form"
_SLOT = "\x00actions\x00"
Status = Comment.Status


@dataclass
class Entry:
    """One public comment as every reader sees it, with what its buttons need."""

    pk: int
    parent_id: int | None
    author_id: int
    approved: bool
    placeholder: bool
    pinned: bool
    like_count: int
    created_at: datetime
    url: str
    before: str = ""  # the rendering up to the buttons
    after: str = ""  # and from there to the end
    signed_in: str = ""  # the buttons of a signed-in reader who neither wrote nor liked it


@dataclass
class ButtonContext:
    """What one request's buttons depend on."""

    pk: int | None
    csrf_token: str
    is_post_author: bool
    comments_open: bool
    liked: set[int] = field(default_factory=set)
    now: datetime = field(default_factory=timezone.now)
    is_moderator: bool = False
    post_url: str = ""
    signed_in: bool = False
    banned: bool = False  # may read, and delete their own, but not like, reply, edit or flag

    def sees_shared_buttons(self, entry: Entry) -> bool:
        """Whether this reader's buttons under the comment are those of any signed-in reader."""
        return (
            self.signed_in
            and not (self.is_moderator or self.is_post_author or self.banned)
            and entry.author_id != self.pk
            and entry.pk not in self.liked
        )


@dataclass
class Page:
    html: SafeString
    comment_count: int
    next_after: int | None


# --- Shared, once per version -------------------------------------------------


def _entry(comment: Comment) -> Entry:
    return Entry(
        pk=comment.pk, parent_id=comment.parent_id, author_id=comment.author_id,
        approved=comment.status == Status.APPROVED and not comment.is_deleted, placeholder=comment.placeholder,
        pinned=comment.is_pinned, like_count=comment.like_count, created_at=comment.created_at,
        url=escape(comment.get_absolute_url()),
    )  # fmt: skip


class SharedThreads(TypedDict):
    """What every reader of a post's comments shares, kept in the cache."""

    threads: list[list[Entry]]
    count: int


def _render_shared(post: Post, sort: str) -> SharedThreads:
    comments = threads.thread(post, AnonymousUser(), sort)
    anyone = ButtonContext(
        pk=None, csrf_token="", is_post_author=False, comments_open=post.comments_open, signed_in=True
    )
    tops: list[list[Entry]] = []
    for comment in comments:
        html = render_to_string("blog/comments/_comment.html", {"comment": comment, "post": post, "slot": _SLOT})
        entry = _entry(comment)
        entry.before, _, entry.after = html.partition(_SLOT)
        entry.signed_in = actions(entry, anyone)
        if comment.parent_id is None or not tops:
            tops.append([])
        tops[-1].append(entry)
    return {"threads": tops, "count": threads.approved_count(comments)}


def shared_threads(post: Post, sort: str, versions: list[str]) -> SharedThreads:
    """The post's public threads in order, each comment rendered without buttons.

    `versions` are the site's and the post page's (blog/pagecache/), which every
    change to the comments, the post or a name bumps. Links carry the slug and
    the badge the author, so both are in the key too, and the times are in the
    reader's time zone, so that is."""
    zone = timezone.get_current_timezone_name()
    # Entries are pickled by module path: ":2" since that moved (blog/discussion/), so no old process reads them.
    key = f"comments:2:{post.pk}:{sort}:{post.slug}:{post.author_id}:{post.comments_open}:{zone}:{':'.join(versions)}"
    shared: SharedThreads | None = pagecache.local_copy(key)
    if shared is None:
        shared = _render_shared(post, sort)
        cache.set(key, shared, SHARED_TIMEOUT)
        pagecache.keep_local_copy(key, shared)
    return shared


# --- Per reader, per request ----------------------------------------------------


def _button_context(post: Post, user: User | AnonymousUser, csrf_token: str) -> ButtonContext:
    reader = ButtonContext(
        user.pk, csrf_token, post.author_id == user.pk, post.comments_open, signed_in=user.is_authenticated
    )
    if user.is_authenticated and user.is_moderator:
        reader.is_moderator, reader.post_url = True, escape(post.get_absolute_url())
    return reader


def buttons_and_held(
    post: Post, user: User | AnonymousUser, csrf_token: str, known: readerstate.ReaderState | None = None
) -> tuple[ButtonContext, list[Comment]]:
    """The reader's likes on this post's comments and the held comments they may see:
    their own, or for a moderator every one, to act on beside it."""
    reader = _button_context(post, user, csrf_token)
    if not user.is_authenticated:
        return reader, []
    known = known or readerstate.state(post, user)
    reader.liked, reader.banned = known.liked_comments, known.banned
    if not (known.has_held or reader.is_moderator):
        return reader, []
    held_here = Comment.objects.filter(post=post, status=Status.HELD)
    if not reader.is_moderator:
        held_here = held_here.filter(author=user)
    held = list(held_here.select_related("author"))
    moderator_ids = threads.moderators_among({comment.author_id for comment in held})
    for comment in held:
        comment.post, comment.placeholder, comment.liked = post, False, False
        comment.by_post_author = comment.author_id == post.author_id
        comment.by_moderator = comment.author_id in moderator_ids
    return reader, held


def actions(entry: Entry, reader: ButtonContext) -> str:
    """The buttons under a comment, for this reader (the markup _comment.html had).

    Plain string joins, since this runs for every comment of a page on every
    request: the values are integers, the site's own paths (escaped when the
    entry was built) and the CSRF token (letters and digits)."""
    if entry.placeholder:
        return ""
    if not reader.signed_in:
        return f'<p class="comment-actions muted">{_likes_text(entry.like_count)}</p>' if entry.like_count else ""
    if reader.banned:
        return _banned_actions(entry, reader)
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{reader.csrf_token}">'
    urls, pk = _urls(), entry.pk
    parts = ['<div class="comment-actions">']
    if entry.approved:  # one form per page holds the CSRF token (LIKE_FORM), so this markup is the same for everyone
        liked = pk in reader.liked
        parts.append(
            f'<button type="submit" form="{LIKE_FORM}" formaction="{urls["comment_like"] % pk}" '
            f'class="link{" is-liked" if liked else ""}" aria-pressed="{"true" if liked else "false"}" '
            f'aria-label="Like, {_likes(entry.like_count)}">♥ {entry.like_count}</button>'
        )
        if reader.comments_open:
            parts.append(f'<a href="{entry.url}#reply" data-reply="{pk}">Reply</a>')
    own = reader.pk is not None and entry.author_id == reader.pk
    if own and reader.now - entry.created_at <= EDIT_WINDOW:
        parts.append(f'<a href="{urls["comment_edit"] % pk}">Edit</a>')
    if own:  # the link asks "are you sure?" before anything is deleted
        parts.append(f'<a href="{urls["comment_delete"] % pk}">Delete</a>')
    elif entry.approved:
        parts.append(f'<a href="{urls["comment_flag"] % pk}">Flag</a>')
    if reader.is_post_author and entry.approved:
        parts.append(
            f'<form method="post" action="{urls["comment_pin"] % pk}" class="inline">{token}'
            f'<button type="submit" class="link">{"Unpin" if entry.pinned else "Pin"}</button></form>'
        )
    parts.append("</div>")
    if reader.is_moderator:
        parts.append(_moderation(entry, reader, token))
    return "".join(parts)


def _banned_actions(entry: Entry, reader: ButtonContext) -> str:
    """A banned reader sees the likes as a count, and may still delete their own comment."""
    likes = _likes_text(entry.like_count) if entry.like_count else ""
    delete = ""
    if reader.pk is not None and entry.author_id == reader.pk:
        delete = f'<a href="{_urls()["comment_delete"] % entry.pk}">Delete</a>'
    if not (likes or delete):
        return ""
    return f'<div class="comment-actions muted">{" ".join(part for part in (likes, delete) if part)}</div>'


def _moderation(entry: Entry, reader: ButtonContext, token: str) -> str:
    """A moderator's actions beside the comment: the queue's form, for this one comment."""
    pk = entry.pk
    approve = "" if entry.approved else '<button type="submit" name="action" value="approve">Approve</button>'
    days = "".join(
        f'<option value="{value}"{" selected" if value == "7" else ""}>{label}</option>'
        for value, label in (("1", "1 day"), ("7", "7 days"), ("30", "30 days"), ("forever", "ever"))
    )
    return (
        '<details class="comment-moderation"><summary>Moderate<span class="visually-hidden"> this comment</span>'
        f'</summary><form method="post" action="{_urls()["moderation_queue"]}">{token}'
        f'<input type="hidden" name="ids" value="{pk}">'
        f'<input type="hidden" name="next" value="{reader.post_url}#comment-{pk}">{approve}'
        '<button type="submit" name="action" value="delete" class="secondary">Remove</button>'
        f'<label for="mod-reason-{pk}">Reason (required to ban)</label>'
        f'<input type="text" id="mod-reason-{pk}" name="reason" maxlength="300">'
        f'<label for="mod-days-{pk}">Ban for</label><select id="mod-days-{pk}" name="ban_days">{days}</select>'
        '<button type="submit" name="action" value="ban" class="secondary">Ban the author</button></form></details>'
    )


def _likes(count: int) -> str:
    return f"{count} like{'' if count == 1 else 's'}"


def _likes_text(count: int) -> str:
    """The heart for the eye, the words for a screen reader."""
    return f'<span aria-hidden="true">♥ {count}</span><span class="visually-hidden">{_likes(count)}</span>'


def _page_bounds(tops: list[list[Entry]], after: str | None, comment: str | None) -> tuple[int, int]:
    start = 0
    if comment and comment.isdigit():
        found = next((i for i, thread in enumerate(tops) if any(e.pk == int(comment) for e in thread)), 0)
        start = max(first for first in _page_starts(tops) if first <= found)
    elif after and after.isdigit():
        start = next((i + 1 for i, thread in enumerate(tops) if thread[0].pk == int(after)), 0)
    return start, _page_end(tops, start)


def _page_end(tops: list[list[Entry]], start: int) -> int:
    end, size = start, 0
    while end < len(tops) and (size == 0 or size + len(tops[end]) <= PAGE_COMMENTS):
        size += len(tops[end])
        end += 1
    return end


def _page_starts(tops: list[list[Entry]]) -> list[int]:
    starts = [0]
    while (end := _page_end(tops, starts[-1])) < len(tops):
        starts.append(end)
    return starts


def page(
    post: Post,
    user: User | AnonymousUser,
    sort: str,
    csrf_token: str,
    after: str | None,
    comment: str | None,
    versions: list[str],
    known: readerstate.ReaderState | None = None,
) -> Page:
    """One page of threads: shared renderings, this reader's buttons and held comments."""
    shared = shared_threads(post, sort, versions)
    tops = shared["threads"]
    reader, held = buttons_and_held(post, user, csrf_token, known)
    start, end = _page_bounds(tops, after, comment)
    under: dict[int | None, list[str]] = {}
    for item in held:
        under.setdefault(item.parent_id, []).append(
            render_to_string("blog/comments/_comment.html", {"comment": item, "post": post, "user": user,
                                                             "csrf_token": csrf_token})
        )  # fmt: skip
    pieces = under.pop(None, []) if start == 0 else []
    for thread in tops[start:end]:
        for entry in thread:
            buttons = entry.signed_in if reader.sees_shared_buttons(entry) else actions(entry, reader)
            pieces += [entry.before, buttons, entry.after, *under.pop(entry.pk, [])]
    if start == 0:  # held replies whose thread is not shown (a removed comment's, say)
        pieces += [html for parent, items in under.items() for html in items]
    next_after = tops[end - 1][0].pk if end < len(tops) else None
    return Page(mark_safe("".join(pieces)), shared["count"], next_after)


def live_actions(comment: Comment, user: User | AnonymousUser, csrf_token: str, post: Post) -> str:
    """The buttons of a comment rendered on its own (its permalink page, a held comment)."""
    reader = _button_context(post, user, csrf_token)
    if getattr(comment, "liked", False):
        reader.liked.add(comment.pk)
    entry = _entry(comment)
    entry.approved = comment.status == Status.APPROVED and not comment.is_deleted
    return actions(entry, reader)


@cache_forever
def _urls() -> dict[str, str]:
    """The buttons' addresses as format strings: reverse() per button per request costs too much."""
    names = ["comment_like", "comment_edit", "comment_delete", "comment_flag", "comment_pin"]
    urls = {name: escape(reverse(f"blog:{name}", args=[987654321])).replace("987654321", "%d") for name in names}
    return {**urls, "moderation_queue": reverse("blog:moderation_queue")}
