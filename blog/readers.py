"""A signed-in reader's own state on a post's page, in one statement.

Every load of a post by a signed-in reader needs it: their like and re-stack,
whether they subscribe (and with which verified address they could), their
likes on the post's comments, and whether they have comments held for
moderation there; and the post's counters, which change without a new
version of its page (blog/pagecache/). Built with the ORM these were five queries whose building
cost ten times what PostgreSQL spent running them, so they are written out
here. The rules are the ones of engagement (likes, re-stacks),
subscriptions.subscriber_for_user and verified_email, and commentpages (a
reader's held comments); tests/blog/test_readers.py holds them to each other.
"""

from dataclasses import dataclass, field
from functools import cache

from allauth.account.models import EmailAddress
from django.db import connection

from accounts.models import User
from blog import bans
from blog.models import Comment, CommentLike, Like, Post, Restack, Subscriber


@dataclass
class ReaderState:
    liked: bool = False
    restacked: bool = False
    subscribed: bool = False
    verified_email: str | None = None
    has_held: bool = False
    banned: bool = False  # by their own ban or their address's (blog/bans.py says why, and until when)
    liked_comments: set[int] = field(default_factory=set)
    counts: tuple[int, int, int] = (0, 0, 0)  # the post's likes, shares and re-stacks


@cache
def _statement() -> str:
    models = {
        "like": Like, "restack": Restack, "subscriber": Subscriber, "address": EmailAddress,
        "comment": Comment, "comment_like": CommentLike, "post": Post,
    }  # fmt: skip
    tables = {name: connection.ops.quote_name(model._meta.db_table) for name, model in models.items()}
    return _STATE.format(list=_LIST[connection.vendor], bans="{bans}", **tables)


# The ids of the comments they liked come as one text, by an aggregate each backend spells its own way.
_LIST = {
    "postgresql": "string_agg(CAST(liked.comment_id AS text), ',')",
    "sqlite": "group_concat(liked.comment_id, ',')",
}
# LOWER(email), as the unique index on subscribers is: UPPER() would scan the table.
_STATE = """
SELECT
  EXISTS (SELECT 1 FROM {like} WHERE post_id = %(post)s AND user_id = %(user)s),
  EXISTS (SELECT 1 FROM {restack} WHERE post_id = %(post)s AND user_id = %(user)s),
  (SELECT status FROM {subscriber} WHERE user_id = %(user)s OR LOWER(email) = LOWER(%(email)s)
     ORDER BY CASE WHEN user_id = %(user)s THEN 0 ELSE 1 END, id LIMIT 1),
  (SELECT email FROM {address} WHERE user_id = %(user)s AND verified AND "primary" ORDER BY id LIMIT 1),
  EXISTS (SELECT 1 FROM {comment} WHERE post_id = %(post)s AND author_id = %(user)s AND status = %(held)s),
  (SELECT {list} FROM {comment_like} liked JOIN {comment} comment ON comment.id = liked.comment_id
     WHERE comment.post_id = %(post)s AND liked.user_id = %(user)s),
  like_count, share_count, restack_count, {bans}
FROM {post} WHERE id = %(post)s
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
