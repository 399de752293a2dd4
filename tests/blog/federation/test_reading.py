"""A reader here following a publication elsewhere, and liking, boosting and replying from this site."""

import json
from urllib.parse import quote

import pytest
from django.test import Client

from blog.models import Following, ReceivedArticle
from tests.blog.federation.conftest import FakeServer, RemoteAccount


@pytest.fixture
def elsewhere(remote_server: FakeServer) -> RemoteAccount:
    """A publication on another server, findable by WebFinger."""
    account = RemoteAccount(remote_server, "gazette")
    resource = quote(f"acct:gazette@{remote_server.domain}")
    remote_server.documents[f"/.well-known/webfinger?resource={resource}"] = json.dumps(
        {
            "subject": f"acct:gazette@{remote_server.domain}",
            "links": [{"rel": "self", "type": "application/activity+json", "href": account.id}],
        }
    ).encode()
    return account


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def follow(client: Client, server: FakeServer, address: str):
    with server.capture(execute=True):
        return client.post("/fediverse/follow/", {"address": address})


@pytest.fixture
def following(rosa, elsewhere: RemoteAccount, remote_server: FakeServer) -> Client:
    client = signed_in(rosa)
    follow(client, remote_server, f"@gazette@{remote_server.domain}")
    return client


def test_a_reader_follows_by_address_and_the_follow_is_signed_as_them(following, elsewhere, remote_server) -> None:
    sent = remote_server.posts_to(elsewhere.inbox_path)
    assert [item.activity["type"] for item in sent] == ["Follow"]
    assert sent[0].activity["actor"] == "http://127.0.0.1:8000/ap/users/rosa"
    assert 'keyId="http://127.0.0.1:8000/ap/users/rosa#main-key"' in sent[0].headers["signature"]
    assert Following.objects.get().accepted_at is None


def test_an_accept_and_a_post_reach_the_reader(following, elsewhere, remote_server) -> None:
    follow_id = Following.objects.get().follow_uri
    elsewhere.send(Client(), elsewhere.activity("Accept", {"id": follow_id, "type": "Follow"}), "/ap/actors/rosa/inbox")
    assert Following.objects.get().accepted_at is not None
    article = {"id": f"{elsewhere.id}/articles/1", "type": "Article", "name": "Harbour news",
               "attributedTo": elsewhere.id, "content": "<p>Boats <script>x()</script>in.</p>",
               "url": f"{remote_server.base}/harbour",
               "to": ["https://www.w3.org/ns/activitystreams#Public"]}  # fmt: skip
    elsewhere.send(Client(), elsewhere.activity("Create", article))
    page = following.get("/fediverse/").content.decode()
    assert "Harbour news" in page and "Boats" in page and "x()" not in page


@pytest.fixture
def article(following, elsewhere) -> ReceivedArticle:
    obj = {"id": f"{elsewhere.id}/articles/1", "type": "Article", "name": "Harbour news", "attributedTo": elsewhere.id,
           "content": "<p>Boats in.</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"]}  # fmt: skip
    elsewhere.send(Client(), elsewhere.activity("Create", obj))
    return ReceivedArticle.objects.get()


@pytest.mark.parametrize("action", ["like", "boost", "reply"])
def test_a_reader_likes_boosts_and_replies(following, article, elsewhere, remote_server, action: str) -> None:
    remote_server.received.clear()
    with remote_server.capture(execute=True):
        response = following.post(f"/fediverse/posts/{article.pk}/{action}/", {"body": "Well *said*"})
    assert response.status_code == 302
    sent = remote_server.posts_to("/inbox")[0].activity
    kind = {"like": "Like", "boost": "Announce", "reply": "Create"}[action]
    assert sent["type"] == kind and sent["actor"] == "http://127.0.0.1:8000/ap/users/rosa"
    if action == "reply":
        assert sent["object"]["inReplyTo"] == article.uri and "<em>said</em>" in sent["object"]["content"]
    else:
        assert sent["object"] == article.uri


def test_an_empty_reply_is_refused_and_nothing_sent(following, article, remote_server) -> None:
    remote_server.received.clear()
    response = following.post(f"/fediverse/posts/{article.pk}/reply/", {"body": "  "})
    assert response.status_code == 400 and "Write something" in response.content.decode()
    assert remote_server.received == []


def test_another_reader_cannot_act_on_posts_they_do_not_follow(article, kit) -> None:
    assert signed_in(kit).post(f"/fediverse/posts/{article.pk}/like/").status_code == 404


def test_actions_are_post_only_and_need_an_account(article) -> None:
    assert Client().post(f"/fediverse/posts/{article.pk}/like/").status_code == 302  # to log in
    assert Client().post("/fediverse/follow/", {"address": "@a@b.example"}).status_code == 302
    assert Client().get("/fediverse/").status_code == 302


def test_get_cannot_follow(rosa) -> None:
    assert signed_in(rosa).get("/fediverse/follow/").status_code == 405


def test_a_bad_address_is_refused_with_a_reason(rosa, remote_server) -> None:
    response = follow(signed_in(rosa), remote_server, "not an address")
    assert response.status_code == 400 and "Enter an address" in response.content.decode()
    response = follow(signed_in(rosa), remote_server, f"@nobody@{remote_server.domain}")
    assert response.status_code == 400 and "No fediverse account" in response.content.decode()
    assert not Following.objects.exists()


def test_unfollow_sends_undo_and_only_for_ones_own_follow(following, elsewhere, remote_server, kit) -> None:
    pk = Following.objects.get().pk
    assert signed_in(kit).post(f"/fediverse/following/{pk}/unfollow/").status_code == 404
    with remote_server.capture(execute=True):
        assert following.post(f"/fediverse/following/{pk}/unfollow/").status_code == 302
    sent = remote_server.posts_to("/inbox")[-1]
    assert sent.activity["type"] == "Undo" and sent.activity["object"]["type"] == "Follow"
    assert 'keyId="http://127.0.0.1:8000/ap/users/rosa#main-key"' in sent.headers["signature"]
    assert not Following.objects.exists()
