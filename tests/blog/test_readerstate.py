"""blog/discussion/readerstate.py writes out in SQL what engagement, subscriptions and
commentpages decide with the ORM: the two must agree."""

import pytest

from blog.discussion import engagement, readerstate
from blog.models import Comment, CommentLike, Like, Post, Restack, Subscriber
from blog.newsletter import subscriptions
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def orm_state(post: Post, user) -> readerstate.ReaderState:
    box = subscriptions.box_state(user)
    comment_likes = CommentLike.objects.filter(user=user, comment__post=post).values_list("comment_id", flat=True)
    return readerstate.ReaderState(
        liked=engagement.has_liked(post, user),
        restacked=Restack.objects.filter(post=post, user=user).exists(),
        subscribed=box["subscribed"],
        verified_email=box["verified_email"],
        has_held=Comment.objects.filter(post=post, author=user, status=Comment.Status.HELD).exists(),
        liked_comments=set(comment_likes),
    )


def test_a_reader_with_nothing_yet(ada, rosa) -> None:
    post = make_post(ada)
    assert (
        readerstate.state(post, rosa)
        == orm_state(post, rosa)
        == readerstate.ReaderState(verified_email="rosa@example.com")
    )


def test_a_reader_who_did_everything(ada, rosa, bo) -> None:
    post, other = make_post(ada, "One", slug="one"), make_post(ada, "Two", slug="two")
    Like.objects.create(post=post, user=rosa)
    Restack.objects.create(post=post, user=rosa)
    Subscriber.objects.create(email="ROSA@example.com", status=Subscriber.Status.ACTIVE)
    theirs = Comment.objects.create(post=post, author=bo, body="x", body_html="<p>x</p>", status="approved")
    elsewhere = Comment.objects.create(post=other, author=bo, body="y", body_html="<p>y</p>", status="approved")
    CommentLike.objects.create(comment=theirs, user=rosa)
    CommentLike.objects.create(comment=elsewhere, user=rosa)
    Comment.objects.create(post=post, author=rosa, body="z", body_html="<p>z</p>", status="held")
    state = readerstate.state(post, rosa)
    assert state == orm_state(post, rosa)
    assert state.liked and state.restacked and state.subscribed and state.has_held
    assert state.liked_comments == {theirs.pk}


def test_the_subscriber_linked_to_the_account_comes_before_one_by_address(ada) -> None:
    post, reader = make_post(ada), make_user("lin")
    Subscriber.objects.create(email="lin@example.com", status=Subscriber.Status.ACTIVE)
    Subscriber.objects.create(email="lin.work@example.com", user=reader, status=Subscriber.Status.UNSUBSCRIBED)
    assert readerstate.state(post, reader) == orm_state(post, reader)
    assert not readerstate.state(post, reader).subscribed


def test_an_unverified_address_is_not_offered(ada) -> None:
    post, reader = make_post(ada), make_user("una")
    reader.emailaddress_set.update(verified=False)
    assert readerstate.state(post, reader) == orm_state(post, reader)
    assert readerstate.state(post, reader).verified_email is None
