"""A published post reaches every follower's server once, signed; edits
send Update, unpublishing Delete; failures are retried or given up."""

from datetime import timedelta

import pytest
from django.db.models import QuerySet
from django.test import Client
from django.utils import timezone

from blog.federation import outbox, signatures
from blog.federation.tasks import requeue_stuck, send_deliveries
from blog.models import ActorKey, FederatedDelivery, Follower, OutboundActivity, Post
from blog.posts.publishing import publish_post, unpublish_post
from tests.blog.federation.conftest import FakeServer, RemoteAccount
from tests.factories import make_post

PUBLICATION = "http://127.0.0.1:8000/ap/publication"


@pytest.fixture
def followers(client: Client, remote_server: FakeServer, ada) -> list[RemoteAccount]:
    """Three accounts on one server (one shared inbox) follow the publication."""
    accounts = [RemoteAccount(remote_server, name) for name in ("alice", "bob", "carol")]
    for account in accounts:
        account.send(client, account.activity("Follow", PUBLICATION))
    remote_server.received.clear()
    return accounts


@pytest.fixture
def draft(ada) -> Post:
    return make_post(ada, "Tides of the North Sea", status=Post.Status.DRAFT, body="Private until *now*.")


def post_deliveries() -> QuerySet[FederatedDelivery]:
    """Deliveries of posts (not the Accepts the follows got)."""
    return FederatedDelivery.objects.filter(activity__post__isnull=False)


def publish(server: FakeServer, post: Post) -> bool:
    with server.capture(execute=True):
        return publish_post(post)


def test_a_published_post_goes_once_to_each_shared_inbox_signed(followers, remote_server, draft) -> None:
    assert publish(remote_server, draft)
    received = remote_server.posts_to("/inbox")
    assert len(received) == 1  # three followers, one server, one shared inbox
    create = received[0].activity
    assert create["type"] == "Create" and create["object"]["type"] == "Article"
    assert create["object"]["name"] == "Tides of the North Sea"
    headers = received[0].headers
    sig = signatures.parse(headers["signature"])
    assert sig.key_id == "http://127.0.0.1:8000/ap/publication#main-key"
    assert sig.headers == ["(request-target)", "host", "date", "digest"]
    public_pem = ActorKey.objects.get(actor="publication").public_pem
    signatures.verify("POST", "/inbox", headers, received[0].body, sig, public_pem)  # raises if it does not verify
    assert post_deliveries().get().status == FederatedDelivery.Status.SENT


def test_an_authors_followers_get_the_authors_boost_of_the_post(client, remote_server, draft) -> None:
    alice = RemoteAccount(remote_server, "alice")
    alice.send(client, alice.activity("Follow", PUBLICATION))
    publish(remote_server, make_post(draft.author, "Earlier"))  # ada becomes an author with a live post
    alice.send(client, alice.activity("Follow", "http://127.0.0.1:8000/ap/users/ada"))
    remote_server.received.clear()
    publish(remote_server, draft)
    create, announce = (item.activity for item in remote_server.posts_to("/inbox"))
    assert (create["type"], create["actor"]) == ("Create", PUBLICATION)
    assert (announce["type"], announce["actor"]) == ("Announce", "http://127.0.0.1:8000/ap/users/ada")
    assert announce["object"] == create["object"]["id"]
    assert (
        'keyId="http://127.0.0.1:8000/ap/users/ada#main-key"'
        in remote_server.posts_to("/inbox")[1].headers["signature"]
    )


def test_nothing_is_sent_without_followers_or_for_a_draft(remote_server, followers, draft) -> None:
    with remote_server.capture(execute=True):
        draft.title = "Edited while a draft"
        draft.save()
    assert remote_server.received == [] and not OutboundActivity.objects.filter(post__isnull=False).exists()


def test_an_edit_of_a_live_post_sends_an_update(followers, remote_server, draft) -> None:
    publish(remote_server, draft)
    with remote_server.capture(execute=True):
        post = Post.objects.get(pk=draft.pk)
        post.title = "Tides, revised"
        post.save()
    update = remote_server.posts_to("/inbox")[-1].activity
    assert update["type"] == "Update" and update["object"]["name"] == "Tides, revised"


def test_unpublishing_sends_a_delete_with_only_the_id(followers, remote_server, draft) -> None:
    publish(remote_server, draft)
    with remote_server.capture(execute=True):
        unpublish_post(Post.objects.get(pk=draft.pk))
    delete = remote_server.posts_to("/inbox")[-1].activity
    assert delete["type"] == "Delete"
    assert delete["object"] == {"id": f"http://127.0.0.1:8000/ap/articles/{draft.pk}", "type": "Tombstone"}
    assert "Private" not in remote_server.posts_to("/inbox")[-1].body.decode()


def test_a_server_error_is_retried_later_with_backoff(followers, remote_server, draft) -> None:
    remote_server.answers["/inbox"] = 503
    publish(remote_server, draft)
    delivery = post_deliveries().get()
    assert delivery.status == FederatedDelivery.Status.QUEUED and delivery.attempts == 1
    assert delivery.due_at > timezone.now() + timedelta(seconds=20)
    assert "503" in delivery.error
    remote_server.answers["/inbox"] = 202
    post_deliveries().update(due_at=timezone.now())
    send_deliveries([delivery.pk])
    assert post_deliveries().get().status == FederatedDelivery.Status.SENT
    assert len(remote_server.posts_to("/inbox")) == 2


def test_a_gone_inbox_fails_at_once(followers, remote_server, draft) -> None:
    remote_server.answers["/inbox"] = 410
    publish(remote_server, draft)
    delivery = post_deliveries().get()
    assert delivery.status == FederatedDelivery.Status.FAILED and delivery.attempts == 1


def test_a_delivery_a_dead_worker_left_is_sent_once_after_the_sweep(followers, remote_server, draft, settings) -> None:
    remote_server.answers["/inbox"] = 503
    publish(remote_server, draft)
    remote_server.answers["/inbox"] = 202
    # As a worker killed after its claim leaves it: "sending", claimed long ago.
    long_ago = timezone.now() - timedelta(seconds=settings.FEDERATION_STUCK_AFTER_SECONDS + 1)
    post_deliveries().update(status=FederatedDelivery.Status.SENDING, claimed_at=long_ago, due_at=long_ago)
    send_deliveries(list(post_deliveries().values_list("pk", flat=True)))  # a late duplicate task: no claim
    assert len(remote_server.posts_to("/inbox")) == 1
    with remote_server.capture(execute=True):
        requeue_stuck()
    assert post_deliveries().get().status == FederatedDelivery.Status.SENT
    assert len(remote_server.posts_to("/inbox")) == 2


def test_a_blocked_instance_gets_nothing(followers, remote_server, draft, milo) -> None:
    from blog.federation.blocks import block_instance

    block_instance(remote_server.domain, "", milo)
    assert not Follower.objects.exists()
    publish(remote_server, draft)
    assert remote_server.received == []


def test_loopback_and_private_addresses_are_refused_without_the_test_setting(
    followers, remote_server, draft, settings
) -> None:
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = False
    publish(remote_server, draft)
    delivery = post_deliveries().get()
    assert delivery.status == FederatedDelivery.Status.FAILED
    assert remote_server.received == []


def test_batches_cover_every_delivery(settings) -> None:
    settings.FEDERATION_BATCH_SIZE = 2
    assert outbox.batches([1, 2, 3, 4, 5]) == [[1, 2], [3, 4], [5]]
