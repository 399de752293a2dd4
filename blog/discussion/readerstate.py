"""A signed-in reader's own state on a post's page, in one statement.

Every load of a post by a signed-in reader needs it: their like and re-stack,
whether they subscribe (and with which verified address they could), their
likes on the post's comments, and whether they have comments held for
moderation there; and the post's counters, which change without a new
version of its page (blog/pagecache/). Built with the ORM these were five queries whose building
cost ten times what PostgreSQL spent running them (bench/post_page.py, signed in), so they are
written out here, beside their ORM twin `state_through_orm`: the rules of engagement (likes,
re-stacks), subscriptions.box_state, commentpages (a reader's held comments) and bans.
tests/blog/test_sql_twins.py holds the two to each other on SQLite and PostgreSQL.
"""

from dataclasses import dataclass, field
from functools import cache

from allauth.account.models import EmailAddress
from django.db import connection

from accounts.models import User
from blog.discussion import bans
from blog.models import Comment, CommentLike, Like, Post, Restack, Subscriber
from blog.newsletter import subscriptions
from blog.shared.sqlnames import spelled


@dataclass
class ReaderState:
    liked: bool = False
    restacked: bool = False
    subscribed: bool = False
    verified_email: str | None = None
    has_held: bool = False
    banned: bool = False  # by their own ban or their address's (blog/discussion/bans.py says why, and until when)
    liked_comments: set[int] = field(default_factory=set)
    counts: tuple[int, int, int] = (0, 0, 0)  # the post's likes, shares and re-stacks


@cache
def _statement() -> str:
    models = {
        "likes": Like, "restacks": Restack, "subscribers": Subscriber, "addresses": EmailAddress,
        "comments": Comment, "comment_likes": CommentLike, "posts": Post,
    }  # fmt: skip
    return spelled(_STATE.replace("{list}", _LIST[connection.vendor]), **models)


# The ids of the comments they liked come as one text, by an aggregate each backend spells its own way.
_LIST = {
    "postgresql": "string_agg(CAST(liked.{comment_likes.comment} AS text), ',')",
    "sqlite": "group_concat(liked.{comment_likes.comment}, ',')",
}
# LOWER(email), as the unique index on subscribers is: UPPER() would scan the table.
_STATE = """
SELECT
  EXISTS (SELECT 1 FROM {likes} WHERE {likes.post} = %(post)s AND {likes.user} = %(user)s),
  EXISTS (SELECT 1 FROM {restacks} WHERE {restacks.post} = %(post)s AND {restacks.user} = %(user)s),
  (SELECT {subscribers.status} FROM {subscribers}
     WHERE {subscribers.user} = %(user)s OR LOWER({subscribers.email}) = LOWER(%(email)s)
     ORDER BY CASE WHEN {subscribers.user} = %(user)s THEN 0 ELSE 1 END, {subscribers.id} LIMIT 1),
  (SELECT {addresses.email} FROM {addresses}
     WHERE {addresses.user} = %(user)s AND {addresses.verified} AND {addresses.primary}
     ORDER BY {addresses.id} LIMIT 1),
  EXISTS (SELECT 1 FROM {comments}
     WHERE {comments.post} = %(post)s AND {comments.author} = %(user)s AND {comments.status} = %(held)s),
  (SELECT {list} FROM {comment_likes} liked
     JOIN {comments} comment ON comment.{comments.id} = liked.{comment_likes.comment}
     WHERE comment.{comments.post} = %(post)s AND liked.{comment_likes.user} = %(user)s),
  {posts.like_count}, {posts.share_count}, {posts.restack_count}, {bans}
FROM {posts} WHERE {posts.id} = %(post)s
"""


def state(post: Post, user: User, ip: str | None = None) -> ReaderState:
    """The reader's state on this post; `ip` lets an address's ban count too."""
    ban_columns, ban_params = bans.ban_state_columns(user, ip)
    params = {"post": post.pk, "user": user.pk, "email": user.email, "held": Comment.Status.HELD, **ban_params}
    with connection.cursor() as cursor:
        cursor.execute(_statement().replace("{bans}", ban_columns), params)
        liked, restacked, status, address, has_held, liked_comments, *counts, own_ban, address_banned = (
            cursor.fetchone()
        )
    banned = bans.refused(user, own_ban_reason=own_ban, address_banned=bool(address_banned))
    return ReaderState(
        liked=bool(liked), restacked=bool(restacked), subscribed=status == Subscriber.Status.ACTIVE,
        verified_email=address, has_held=bool(has_held), counts=(counts[0], counts[1], counts[2]), banned=banned,
        liked_comments={int(pk) for pk in liked_comments.split(",")} if liked_comments else set(),
    )  # fmt: skip


def state_through_orm(post: Post, user: User, ip: str | None = None) -> ReaderState:
    """`state` through the ORM, in several queries: the rules `_STATE` writes out,
    where they live (tests/blog/test_sql_twins.py holds the two to each other)."""
    box = subscriptions.box_state(user)
    verified = box["verified_email"]
    counts = Post.objects.values_list("like_count", "share_count", "restack_count").get(pk=post.pk)
    comment_likes = CommentLike.objects.filter(user=user, comment__post=post).values_list("comment_id", flat=True)
    return ReaderState(
        liked=Like.objects.filter(post=post, user=user).exists(),
        restacked=Restack.objects.filter(post=post, user=user).exists(),
        subscribed=bool(box["subscribed"]), verified_email=verified if isinstance(verified, str) else None,
        has_held=Comment.objects.filter(post=post, author=user, status=Comment.Status.HELD).exists(),
        banned=bans.refusal(user, ip) is not None, liked_comments=set(comment_likes), counts=counts,
    )  # fmt: skip
