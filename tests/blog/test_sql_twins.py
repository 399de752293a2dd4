"""Hand-written SQL and its ORM twin give the same answer.

Each statement written out for speed (blog/discussion/bans.py, blog/discussion/readerstate.py,
blog/discussion/engagement.py, blog/newsletter/delivery.py) sits beside the ORM version of the same
rule. These tests run on SQLite in the fast suite and on PostgreSQL under DATABASE_URL, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatch_x .venv/bin/pytest tests/blog/test_sql_twins.py

(the one-statement like exists on PostgreSQL only, so its twin test runs there)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from blog.discussion import bans, engagement, readerstate
from blog.models import Ban, Comment, CommentLike, Delivery, Like, Post, Restack, Send, Subscriber
from blog.newsletter import delivery
from tests.factories import make_post, make_subscribers, make_user

pytestmark = pytest.mark.django_db

HERE, ELSEWHERE = "203.0.113.9", "198.51.100.1"
LATER, EARLIER = timedelta(days=1), -timedelta(minutes=1)


def make_ban(kind: str, reader: User) -> None:
    """One ban of each kind a reader can meet, and the ones that no longer count."""
    if kind == "account":
        Ban.objects.create(user=reader, handle=reader.username, reason="harassment")
    elif kind == "address":  # their e-mail address written another way
        Ban.objects.create(email=reader.email.upper(), reason="a second account")
    elif kind == "timed":
        Ban.objects.create(user=reader, reason="a cooling-off", until=timezone.now() + LATER)
    elif kind == "expired":
        Ban.objects.create(user=reader, reason="old", until=timezone.now() + EARLIER)
    elif kind == "lifted":
        Ban.objects.create(user=reader, reason="lifted", lifted_at=timezone.now())
    elif kind == "network":
        Ban.objects.create(ip=HERE, reason="flooding", until=timezone.now() + LATER)
    elif kind == "someone else":
        Ban.objects.create(user=make_user("other"), reason="not you")


KINDS = ["none", "account", "address", "timed", "expired", "lifted", "network", "someone else"]


@pytest.mark.parametrize("ip", [HERE, ELSEWHERE, None])
@pytest.mark.parametrize("kind", KINDS)
def test_the_ban_columns_in_sql_and_through_the_orm_agree(rosa, kind: str, ip: str | None) -> None:
    make_ban(kind, rosa)
    columns, params = bans.ban_state_columns(rosa, ip)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", params)
        reason, address = cursor.fetchone()
    orm = User.objects.filter(pk=rosa.pk).values(**bans.ban_state_annotations(rosa, ip)).get()
    assert (reason, bool(address)) == (orm["own_ban_reason"], bool(orm["address_banned"]))
    assert (reason is None and not address) == (bans.refusal(rosa, ip) is None)


def set_the_scene(scene: str, post: Post, reader: User, bo: User) -> None:
    if scene == "everything":
        other = make_post(bo, "Two", slug="two")
        Like.objects.create(post=post, user=reader)
        Restack.objects.create(post=post, user=reader)
        Subscriber.objects.create(email=reader.email.upper(), status=Subscriber.Status.ACTIVE)
        for on in (post, other):
            theirs = Comment.objects.create(post=on, author=bo, body="x", body_html="<p>x</p>", status="approved")
            CommentLike.objects.create(comment=theirs, user=reader)
        Comment.objects.create(post=post, author=reader, body="z", body_html="<p>z</p>", status="held")
        Post.objects.filter(pk=post.pk).update(like_count=3, share_count=2, restack_count=1)
    elif scene == "linked subscriber first":
        Subscriber.objects.create(email=reader.email, status=Subscriber.Status.ACTIVE)
        Subscriber.objects.create(email="work@example.com", user=reader, status=Subscriber.Status.UNSUBSCRIBED)
    elif scene == "unverified":
        reader.emailaddress_set.update(verified=False)
    elif scene in KINDS:
        make_ban(scene, reader)


@pytest.mark.parametrize("scene", ["nothing", "everything", "linked subscriber first", "unverified", *KINDS[1:]])
def test_a_readers_state_in_one_statement_is_the_state_through_the_orm(ada, bo, rosa, scene: str) -> None:
    post = make_post(ada)
    set_the_scene(scene, post, rosa, bo)
    for ip in (HERE, ELSEWHERE):
        assert readerstate.state(post, rosa, ip) == readerstate.state_through_orm(post, rosa, ip)


@pytest.mark.parametrize("wanted", [None, True, False])
@pytest.mark.parametrize("kind", ["none", "account", "network", "lifted"])
@pytest.mark.parametrize("liked_before", [False, True])
def test_the_like_in_one_statement_does_what_the_orm_steps_do(ada, kind, wanted, liked_before) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement like is PostgreSQL's; SQLite takes the ORM steps")
    answers = []
    for way in ("sql", "orm"):
        post, reader = make_post(ada, way, slug=way), make_user(f"reader-{way}")
        if liked_before:
            engagement.set_like(post, reader, True)
        make_ban(kind, reader)
        try:
            if way == "sql":
                done = engagement._like_in_one_statement(post.slug, reader, wanted, HERE)
            else:
                loaded = engagement.post_to_like(post.slug, reader, HERE)
                flip = not engagement.has_liked(loaded, reader) if wanted is None else wanted
                done = (loaded, *engagement.set_like(loaded, reader, flip, ip=HERE))
            answer = done[1:] if done else None
        except engagement.EngagementError as refused:
            answer = str(refused).split(".")[0]
        post.refresh_from_db()
        answers.append((answer, post.like_count, Like.objects.filter(post=post).count()))
    assert answers[0] == answers[1]


# --- The delivery claim and mark (blog/newsletter/delivery.py) ---------------------------------------------


def claims_and_marks(post: Post, claim) -> list[object]:
    """What a claim function does to rows in each state a worker meets."""
    Send.objects.all().delete()
    Subscriber.objects.all().delete()
    made = make_subscribers(active=4, unsubscribed=1)
    send = Send.objects.create(post=post)
    a, b, c, d, gone = (Delivery.objects.create(send=send, subscriber=s) for s in made["active"] + made["unsubscribed"])
    seen: list[object] = []
    first, _ = claim(a)  # queued and active: claimed
    first.held = True
    second, marked = claim(b, first)  # ours: marked, and the next claimed
    seen += [marked, second is not None]
    second.held = True
    Delivery.objects.filter(pk=b.pk).update(claimed_at=timezone.now() + timedelta(seconds=1))  # taken over
    third, marked = claim(c, second)
    seen += [marked, third is not None]
    Delivery.objects.filter(pk=c.pk).update(attempts=5)  # taken over again; this copy went out whole
    fourth, marked = claim(d, delivery._InFlight(c, third.claimed_at, held=False))
    seen += [marked, fourth is not None, claim(d)[0] is None, claim(gone)[0] is None]
    Delivery.objects.filter(pk=d.pk).update(attempts=9)  # taken over after this worker's dot went
    seen.append(claim(None, delivery._InFlight(d, fourth.claimed_at, held=True, dot_first=True))[1])
    seen += list(send.deliveries.order_by("pk").values_list("status", "attempts", "error"))
    return seen


def test_the_delivery_claim_and_mark_in_sql_and_through_the_orm_agree(ada) -> None:
    post = make_post(ada)
    written_out = claims_and_marks(post, delivery._claim)
    assert written_out == claims_and_marks(post, delivery._claim_orm)
    assert written_out[:6] == [True, True, False, True, True, True]
