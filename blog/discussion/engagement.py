"""Likes, shares, re-stacks and referrals: what a reader's click does.

Counters on Post move with F() in the same transaction as the row they
count, and the unique constraints decide races, so the count equals the rows
however many requests arrive at once."""

import re
from datetime import date
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from accounts.referrals import REFERRAL_SESSION_KEY
from accounts.requests import SignedInRequest
from blog.discussion import bans, counters, moderation
from blog.models import Comment, Like, Post, ReferralVisit, Restack, Share, Subscriber
from blog.shared import events
from blog.shared.ratelimits import client_ip
from blog.shared.rendering import render_markdown
from blog.shared.site import absolute
from blog.shared.sqlnames import spelled

PENDING_LIKE_SESSION_KEY = "pending_like_post_id"
RESTACK_NOTE_LIMIT = 500
RESTACKS_ON_POST = 20

# Where each network's share link goes; {url} and {text} are filled in quoted.
SHARE_TARGETS: dict[str, str] = {
    Share.Network.X: "https://x.com/intent/post?url={url}&text={text}",
    Share.Network.FACEBOOK: "https://www.facebook.com/sharer/sharer.php?u={url}",
    Share.Network.LINKEDIN: "https://www.linkedin.com/sharing/share-offsite/?url={url}",
    Share.Network.REDDIT: "https://www.reddit.com/submit?url={url}&title={text}",
    Share.Network.BLUESKY: "https://bsky.app/intent/compose?text={text}%20{url}",
    Share.Network.THREADS: "https://www.threads.net/intent/post?text={text}%20{url}",
    Share.Network.WHATSAPP: "https://wa.me/?text={text}%20{url}",
    Share.Network.TELEGRAM: "https://t.me/share/url?url={url}&text={text}",
    Share.Network.EMAIL: "mailto:?subject={text}&body={url}",
}
# Mastodon has no central share page: the reader names their server first.
MASTODON_TARGET = "https://{instance}/share?text={text}%20{url}"
MASTODON_INSTANCE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SHARE_NETWORKS = [*SHARE_TARGETS, Share.Network.MASTODON]
# Recorded by the page's script (clipboard, Web Share API) rather than by a redirect.
BEACON_NETWORKS = {Share.Network.COPY, Share.Network.NATIVE}


class EngagementError(Exception):
    """A reader's request that cannot be carried out; the message says why."""


# --- Likes -----------------------------------------------------------------


def check_not_banned(user: User, ip: str | None, post: Post | None = None) -> None:
    """A post loaded by `post_to_like()` for this reader already holds the
    answer when there is no ban; a refusal asks the bans again, for the whole
    message (when the ban ends)."""
    if hasattr(post, "own_ban_reason") and bans.refusal_of(post, user) is None:
        return
    if refusal := bans.refusal(user, ip):
        raise EngagementError(refusal)


def set_like(post: Post, user: User, liked: bool, *, ip: str | None = None) -> tuple[bool, int]:
    """Make the reader's like match `liked`; returns the state and the count.

    Setting a state rather than flipping one makes a double click harmless.
    The like row is written (or left, if a concurrent request wrote it
    first) and the counter moves by what that write changed, in one
    transaction (blog/discussion/counters.py). A live post's like on PostgreSQL takes
    `LIKE_LIVE_POST` below instead, the same rule in one statement."""
    check_not_banned(user, ip, post)
    if liked:
        counters.add_counted(Like, post, "like_count", post=post, user=user)
    else:
        counters.remove_counted(Like, post, "like_count", post=post, user=user)
    return liked, counters.current(post, "like_count")


def post_to_like(slug: str, user: User, ip: str | None) -> Post | None:
    """The post a signed-in reader likes, with their like and bans, in one
    query; None if there is none they may see. Published posts are nearly
    all that is liked, so only a draft or scheduled post asks `visible_to()`
    (and with it the reader's permissions) in a query of its own."""
    liked = Exists(Like.objects.filter(post=OuterRef("pk"), user=user))
    found = Post.objects.filter(slug=slug).only("slug", "status", "published_at", "author_id")
    post = found.annotate(liked=liked, **bans.ban_state_annotations(user, ip)).first()
    if post is not None and not post.is_live and not Post.objects.visible_to(user).filter(pk=post.pk).exists():
        return None
    return post


def like_post(slug: str, user: User, wanted: bool | None, ip: str | None) -> tuple[Post, bool, int] | None:
    """Make this reader's like of the post at `slug` match `wanted` (None:
    flip it); returns the post, the state and the count, or None if there is
    no post they may see. Raises EngagementError if they may not like.

    On PostgreSQL a live post is liked in one statement, its load and the
    reader's bans included; the rest (drafts their authors try, a moderator
    on a paused address) takes the steps below it, in three."""
    done = _like_in_one_statement(slug, user, wanted, ip) if connection.vendor == "postgresql" else None
    if done is None:
        post = post_to_like(slug, user, ip)
        if post is None:
            return None
        liked, count = set_like(post, user, not has_liked(post, user) if wanted is None else wanted, ip=ip)
        done = post, liked, count
    if done[1]:
        _liked(done[0], user.username)
    return done


def _liked(post: Post, by: str) -> None:
    """post.liked, from the columns a like loads (no query for the title)."""
    events.emit(events.Event.POST_LIKED, {"post": {"id": post.pk, "slug": post.slug}, "liked_by": by})


# The like of a live post, with its load, the reader's bans and the count, as
# one statement: the like is written only where no ban refuses it. Its ORM twin
# is `post_to_like` and `set_like` (tests/blog/test_sql_twins.py); it stays SQL
# because bench/likes.py measured it at 0.44 of the authenticated trivial view,
# the two steps at 0.32-0.34, and the ORM has no INSERT ... ON CONFLICT ...
# RETURNING nor data-modifying WITH.
LIKE_LIVE_POST = """
WITH post AS (
    SELECT {posts.id} AS id, {posts.slug} AS slug, {posts.status} AS status, {posts.published_at} AS published_at,
           {posts.author} AS author_id
    FROM {posts} WHERE {posts.slug} = %(slug)s
),
refusal AS (SELECT {bans}),
allowed AS (
    SELECT post.id FROM post, refusal
    WHERE post.status = %(published)s AND post.published_at <= %(now)s
      AND refusal.own_ban_reason IS NULL AND NOT refusal.address_banned
),
wanted AS (
    SELECT COALESCE(%(wanted)s, NOT EXISTS (
        SELECT 1 FROM {likes}, allowed WHERE {likes}.{likes.post} = allowed.id AND {likes}.{likes.user} = %(user)s
    )) AS liked
),
added AS (
    INSERT INTO {likes} ({likes.post}, {likes.user}, {likes.created_at})
    SELECT allowed.id, %(user)s, %(now)s FROM allowed, wanted WHERE wanted.liked
    ON CONFLICT DO NOTHING RETURNING 1
),
removed AS (
    DELETE FROM {likes} USING allowed, wanted
    WHERE {likes}.{likes.post} = allowed.id AND {likes}.{likes.user} = %(user)s AND NOT wanted.liked RETURNING 1
),
counted AS (
    UPDATE {posts}
    SET {posts.like_count} = {posts.like_count} + (SELECT count(*) FROM added) - (SELECT count(*) FROM removed)
    FROM allowed WHERE {posts}.{posts.id} = allowed.id RETURNING {posts.like_count}
)
SELECT post.id, post.slug, post.status, post.published_at, post.author_id,
       refusal.own_ban_reason, refusal.address_banned, (SELECT liked FROM wanted), (SELECT * FROM counted)
FROM post, refusal
"""


@cache
def _like_live_post() -> str:
    return spelled(LIKE_LIVE_POST, posts=Post, likes=Like)


def _like_in_one_statement(slug: str, user: User, wanted: bool | None, ip: str | None) -> tuple[Post, bool, int] | None:
    ban_columns, params = bans.ban_state_columns(user, ip)
    params |= {"slug": slug, "wanted": wanted, "now": timezone.now(), "published": Post.Status.PUBLISHED}
    with connection.cursor() as cursor:
        cursor.execute(_like_live_post().replace("{bans}", ban_columns), params)
        row = cursor.fetchone()
    if row is None:
        return None
    *fields, own_ban_reason, address_banned, liked, count = row
    # from_db takes the loaded fields in the model's order, not the statement's.
    loaded = dict(zip(["id", "slug", "status", "published_at", "author_id"], fields, strict=True))
    names = [field.attname for field in Post._meta.concrete_fields if field.attname in loaded]
    post = Post.from_db(connection.alias, names, [loaded[name] for name in names])
    if count is not None:
        return post, liked, count
    if not post.is_live:
        return None
    vars(post).update(own_ban_reason=own_ban_reason, address_banned=address_banned)
    check_not_banned(user, ip, post)
    return None  # a paused address, which does not hold this reader (a moderator) back


def like_as_subscriber(post: Post, subscriber: Subscriber, *, ip: str | None = None) -> int:
    """A like from the newsletter's button: the subscriber's account likes it
    if they have one, else the subscriber does. Returns the post's count.

    Either way the bans are asked; a subscriber without an account by their
    address. Raises EngagementError if one refuses."""
    if subscriber.user is not None:
        count = set_like(post, subscriber.user, True, ip=ip)[1]
        _liked(post, subscriber.user.username)
        return count
    if refusal := bans.refusal(AnonymousUser(), ip, email=subscriber.email):
        raise EngagementError(refusal)
    counters.add_counted(Like, post, "like_count", post=post, subscriber=subscriber)
    _liked(post, "a subscriber")
    return counters.current(post, "like_count")


def has_liked(post: Post, user: User | AnonymousUser) -> bool:
    if hasattr(post, "liked"):  # loaded by post_to_like()
        return bool(post.liked)
    return user.is_authenticated and Like.objects.filter(post=post, user=user).exists()


def remember_like_intent(request: HttpRequest, post: Post) -> None:
    """A visitor clicked like: keep the intent until they have signed in."""
    request.session[PENDING_LIKE_SESSION_KEY] = post.pk


def apply_like_intent(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """Django's user_logged_in signal: apply a like clicked before signing in."""
    if request is None or not hasattr(request, "session"):
        return
    post_id = request.session.pop(PENDING_LIKE_SESSION_KEY, None)
    post = Post.objects.visible_to(user).filter(pk=post_id).first() if post_id else None
    if post and not bans.refusal(user, client_ip(request) or None):
        set_like(post, user, True)


# --- Shares and referrals --------------------------------------------------


def visitor_hash(request: HttpRequest, day: date) -> str:
    """The same person on the same day gives the same hash; the IP is not kept."""
    who = f"user:{request.user.pk}" if request.user.is_authenticated else f"ip:{client_ip(request)}"
    return salted_hmac("dispatch.share-visitor", f"{who}|{day.isoformat()}", algorithm="sha256").hexdigest()


def shared_url(post: Post, user: User | AnonymousUser) -> str:
    """The post's address as a reader shares it, with their referral code."""
    url = absolute(post.get_absolute_url())
    if user.is_authenticated:
        url += "?" + urlencode({"ref": user.get_referral_code()})
    return url


def share_target(network: str, post: Post, url: str) -> str:
    template = SHARE_TARGETS[network]
    return template.format(url=quote(url, safe=""), text=quote(post.title, safe=""))


def mastodon_instance(text: str) -> str:
    """A Mastodon server's host name from what the reader typed
    ("mastodon.social", "https://mastodon.social/@me"); EngagementError if it is not one."""
    host = text.strip().lower().removeprefix("https://").removeprefix("http://").split("/")[0].lstrip("@")
    host = host.rsplit("@", 1)[-1]  # "@me@example.social" names the server after the last @
    if not MASTODON_INSTANCE.match(host):
        raise EngagementError("Enter your Mastodon server's address, for example mastodon.social.")
    return host


def mastodon_target(instance: str, post: Post, url: str) -> str:
    return MASTODON_TARGET.format(instance=instance, text=quote(post.title, safe=""), url=quote(url, safe=""))


def from_this_site(request: HttpRequest) -> bool:
    """Whether a GET of a share link came from this site's own page. Another
    site can point an image or a link at it, and each of its visitors would
    count; browsers say where a request came from (Sec-Fetch-Site), older ones
    send a Referer. Neither: not counted (the reader is still sent on)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    referer = request.headers.get("Referer", "")
    return bool(referer) and urlsplit(referer).netloc == request.get_host()


def record_share(request: HttpRequest, post: Post, network: str) -> bool:
    """Count a share once per visitor, network and day; True if it was new."""
    today = timezone.localdate()
    user = request.user if request.user.is_authenticated else None
    return counters.add_counted(
        Share, post, "share_count", post=post, network=network, user=user, visitor_hash=visitor_hash(request, today),
        day=today,
    )  # fmt: skip


def record_referral_visit(request: HttpRequest, post: Post, code: str) -> None:
    """A visitor arrived through a reader's shared link: credit the reader."""
    referrer = User.objects.filter(referral_code=code, is_active=True).first() if code else None
    if referrer is None or referrer.pk == request.user.pk:
        return
    request.session[REFERRAL_SESSION_KEY] = referrer.pk
    today = timezone.localdate()
    ReferralVisit.objects.get_or_create(
        referrer=referrer, visitor_hash=visitor_hash(request, today), day=today, defaults={"post": post}
    )


def share_counts(post: Post) -> dict[str, int]:
    """Shares of one post by network, for its author."""
    rows = Share.objects.filter(post=post).values("network").annotate(n=Count("pk")).order_by("-n")
    return {Share.Network(row["network"]).label: row["n"] for row in rows}


def share_menu(post: Post, user: User | AnonymousUser) -> dict[str, object]:
    """What the share menus of a post page offer this reader."""
    return {
        "share_url": shared_url(post, user),
        "networks": [(network, Share.Network(network).label) for network in SHARE_NETWORKS],
    }


def recent_restacks(post: Post, viewer: User | AnonymousUser) -> list[Restack]:
    """The re-stacks listed under a post, newest first, their held notes kept
    from whoever may not read them."""
    restacks = Restack.objects.filter(post=post).select_related("user").order_by("-created_at")[:RESTACKS_ON_POST]
    return held_notes_hidden(list(restacks), viewer)


def held_notes_hidden(restacks: list[Restack], viewer: User | AnonymousUser) -> list[Restack]:
    """A note held for moderation is read by its writer and the moderators
    only: for anyone else it is taken out here, before any template (and any
    rendering shared between readers) sees it."""
    moderator = viewer.is_authenticated and viewer.is_moderator
    for item in restacks:
        if item.note_held and not (moderator or item.user_id == viewer.pk):
            item.note, item.note_html = "", ""
    return restacks


def has_held_note(post: Post, user: User | AnonymousUser) -> bool:
    """Whether this reader's re-stack of the post waits with a held note: their
    page shows it, so it is theirs alone, never a rendering shared with others."""
    if not isinstance(user, User):
        return False
    return Restack.objects.filter(post=post, user=user, note_held=True).exclude(note_html="").exists()


def profile_activity(person: User, viewer: User | AnonymousUser) -> dict[str, object]:
    """A profile's re-stack feed (public, held notes for their writer and the
    moderators only) and liked posts (shown to the owner only)."""
    published = Post.objects.published()
    restacks = held_notes_hidden(
        list(
            Restack.objects.filter(user=person, post__in=published)
            .select_related("post__author")
            .order_by("-created_at")[:30]
        ),
        viewer,
    )
    liked: QuerySet[Post] | list[Post] = []
    if viewer.pk == person.pk:
        liked = published.filter(likes__user=person).select_related("author").order_by("-likes__created_at")[:30]
    return {"restacks": restacks, "liked_posts": liked}


# --- Re-stacks -------------------------------------------------------------


def restack(request: SignedInRequest, post: Post, note: str) -> Restack:
    """Re-post to the reader's profile, or change the note of their re-stack.

    The note goes through the comment rules: a disallowed phrase refuses it,
    a held one shows only to its writer until a moderator publishes it.
    A first re-stack also counts as a share of the post."""
    check_not_banned(request.user, client_ip(request) or None)
    note = note.strip()
    if len(note) > RESTACK_NOTE_LIMIT:
        raise EngagementError(f"Keep the note to {RESTACK_NOTE_LIMIT} characters (it has {len(note)}).")
    decision = moderation.moderate_note(author=request.user, note=note) if note else moderation.Decision("approved")
    if decision.status == Comment.Status.SPAM:
        raise EngagementError("This note can't be posted here. Change it, or re-stack without a note.")
    note_html = render_markdown(note, comment=True) if note else ""
    held = decision.status == Comment.Status.HELD
    fields = {"note": note, "note_html": note_html, "note_held": held}
    with transaction.atomic():
        item, created = Restack.objects.select_for_update().get_or_create(post=post, user=request.user, defaults=fields)
        if created:
            Post.objects.filter(pk=post.pk).update(restack_count=F("restack_count") + 1)
            record_share(request, post, Share.Network.RESTACK)
            data = {"post": {"id": post.pk, "slug": post.slug}, "restacked_by": request.user.username, "note": note}
            events.emit(events.Event.POST_RESTACKED, data)
        else:
            item.note, item.note_html, item.note_held = note, note_html, held
            item.save(update_fields=["note", "note_html", "note_held", "updated_at"])
    return item


def undo_restack(post: Post, user: User) -> bool:
    return counters.remove_counted(Restack, post, "restack_count", post=post, user=user)
