"""Reading comments: a post's threads as one ordered list, drawn as nested lists.

One query for the comments and one for the reader's likes, however many
comments there are; the tree is put in order in Python. Signed-out readers
all see the same list; its rendering, in pages of whole threads, is cached until
the comments change (blog/discussion/commentpages.py)."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.models import User
from blog import pagecache
from blog.models import Comment, CommentLike, Post

SORTS = {"oldest": "Oldest", "newest": "Newest", "top": "Top"}


def _sort_key(sort: str) -> Callable[[Comment], tuple[Any, ...]]:
    if sort == "newest":
        return lambda c: (not c.is_pinned, -c.created_at.timestamp())
    if sort == "top":
        return lambda c: (not c.is_pinned, -c.like_count, c.created_at)
    return lambda c: (not c.is_pinned, c.created_at)


def thread(post: Post, user: User | AnonymousUser, sort: str = "oldest", root_id: int | None = None) -> list[Comment]:
    """Comments in reading order, each with `.level`, `.liked`, `.placeholder`.

    Readers see approved comments and their own held ones; a deleted or
    removed comment stays as a placeholder only while it has replies."""
    shown = Comment.objects.visible_to(user, placeholders=True)
    if user.is_authenticated and user.is_moderator:
        # Moderators see what waits, to act on it beside the comment.
        shown = Comment.objects.filter(Q(pk__in=shown.values("pk")) | Q(status=Comment.Status.HELD))
    comments = list(shown.filter(post=post).select_related("author"))
    liked = set()
    if user.is_authenticated:
        liked = set(CommentLike.objects.filter(user=user, comment__post=post).values_list("comment_id", flat=True))
    children: dict[int | None, list[Comment]] = {}
    moderator_ids = moderators_among({comment.author_id for comment in comments})
    for comment in comments:
        comment.post = post  # the links need the slug; no query per comment
        comment.liked = comment.pk in liked
        comment.placeholder = comment.is_placeholder
        comment.by_post_author = comment.author_id == post.author_id
        comment.by_moderator = comment.author_id in moderator_ids
        comment.editable = user.is_authenticated and comment.is_editable_by(user)
        children.setdefault(comment.parent_id, []).append(comment)

    ordered: list[Comment] = []

    def walk(node: Comment, depth: int) -> bool:
        start = len(ordered)
        node.depth = depth
        ordered.append(node)
        kept = [walk(child, depth + 1) for child in sorted(children.get(node.pk, []), key=_sort_key("oldest"))]
        if node.placeholder and not any(kept):
            del ordered[start:]  # a placeholder with nothing under it is not worth showing
            return False
        return True

    if root_id is not None:
        tops = [c for c in comments if c.pk == root_id]
    else:
        tops = sorted(children.get(None, []), key=_sort_key(sort))
    for top in tops:
        walk(top, 0)
    nest(ordered)
    return ordered


def moderators_among(user_ids: set[int]) -> set[int]:
    """Which of these commenters moderate (their comments carry a badge), in one query."""
    if not user_ids:
        return set()
    holders = User.objects.with_perm("blog.moderate_comment", backend="django.contrib.auth.backends.ModelBackend")
    return set(holders.filter(pk__in=user_ids).values_list("pk", flat=True))


def nest(ordered: list[Comment]) -> None:
    """Tell the template how to draw the flat list as nested lists, so that a
    screen reader announces each reply's depth: a comment followed by its
    first reply opens a list of replies (`opens_replies`), and the last reply
    of a thread closes as many lists as it climbs back (`closes`)."""
    for i, comment in enumerate(ordered):
        next_depth = ordered[i + 1].depth if i + 1 < len(ordered) else 0
        comment.opens_replies = next_depth > comment.depth
        comment.closes = range(max(0, comment.depth - next_depth))


def approved_count(comments: list[Comment]) -> int:
    """The post's public comment count, from a thread already loaded."""
    return sum(1 for c in comments if c.is_counted)


def changed(post_id: int) -> None:
    """The post's comments changed: signed-out readers get a fresh list once this commits."""
    pagecache.post_changed(post_id)


def likes_changed(post_id: int) -> None:
    """A comment's likes changed: they show on the post's page only, not in the
    listings (which count comments, not their likes)."""
    slug = Post.objects.filter(pk=post_id).values_list("slug", flat=True).first()
    if slug:
        pagecache.changed(pagecache.post_scope(slug))
