"""What comes back from the fediverse: follows, likes, boosts and replies,
verified, and handled as a local reader's actions would be."""

import json

import pytest
from django.test import Client

from blog.models import Ban, Comment, Follower, Like, Post, RemoteActor, Restack
from tests.blog.federation.conftest import RemoteAccount
from tests.factories import make_post, relax_moderation

PUBLICATION = "http://127.0.0.1:8000/ap/publication"


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Tides of the North Sea", body="The *tides* came in.")


def article_id(post: Post) -> str:
    return f"http://127.0.0.1:8000/ap/articles/{post.pk}"


def test_a_signed_follow_makes_a_follower_and_is_accepted(client: Client, mastodon_user: RemoteAccount, post) -> None:
    follow = mastodon_user.activity("Follow", PUBLICATION)
    response = mastodon_user.send(client, follow)
    assert response.status_code == 202, response.content
    remote = RemoteActor.objects.get(uri=mastodon_user.id)
    assert Follower.objects.filter(remote=remote, local="publication").exists()
    assert remote.handle == f"@alice@{mastodon_user.server.domain}"
    accepts = mastodon_user.server.posts_to(mastodon_user.inbox_path)
    assert [item.activity["type"] for item in accepts] == ["Accept"]
    assert accepts[0].activity["object"]["id"] == follow["id"]
    assert 'keyId="http://127.0.0.1:8000/ap/publication#main-key"' in accepts[0].headers["signature"]


def test_an_author_can_be_followed_too(client: Client, mastodon_user: RemoteAccount, post) -> None:
    response = mastodon_user.send(client, mastodon_user.activity("Follow", "http://127.0.0.1:8000/ap/users/ada"))
    assert response.status_code == 202
    assert Follower.objects.filter(local="ada").count() == 1


def test_undo_follow_ends_the_follow(client: Client, mastodon_user: RemoteAccount, post) -> None:
    follow = mastodon_user.activity("Follow", PUBLICATION)
    mastodon_user.send(client, follow)
    mastodon_user.send(client, mastodon_user.activity("Undo", follow))
    assert not Follower.objects.exists()


def test_an_unsigned_request_is_refused_and_changes_nothing(client: Client, mastodon_user: RemoteAccount, post) -> None:
    body = json.dumps(mastodon_user.activity("Like", article_id(post)))
    response = client.post("/ap/inbox", data=body, content_type="application/activity+json")
    assert response.status_code == 401
    assert "not signed" in response.json()["error"]
    assert Post.objects.get(pk=post.pk).like_count == 0


def test_a_tampered_body_is_refused(client: Client, mastodon_user: RemoteAccount, post) -> None:
    like = mastodon_user.activity("Like", article_id(post))
    signed = mastodon_user.send  # sign one body, send another
    body = json.dumps(like).encode()
    from blog.federation import signatures

    headers = signatures.sign("POST", "http://testserver/ap/inbox", body, f"{mastodon_user.id}#main-key",
                              mastodon_user.private_pem)  # fmt: skip
    headers.pop("Host")
    other = json.dumps({**like, "object": "http://127.0.0.1:8000/ap/articles/999"})
    response = client.post("/ap/inbox", data=other, content_type="application/activity+json", headers=headers)
    assert response.status_code == 401 and "Digest" in response.json()["error"]
    assert signed and not Like.objects.exists()


def test_a_signature_by_another_key_is_refused(client: Client, remote_server, post) -> None:
    alice, mallory = RemoteAccount(remote_server, "alice"), RemoteAccount(remote_server, "mallory")
    mallory.private_pem = RemoteAccount(remote_server, "eve").private_pem  # signs as mallory with eve's key
    response = mallory.send(client, mallory.activity("Like", article_id(post)))
    assert response.status_code == 401
    assert alice and not Like.objects.exists()


def test_an_activity_for_another_actor_is_refused(client: Client, remote_server, post) -> None:
    alice, mallory = RemoteAccount(remote_server, "alice"), RemoteAccount(remote_server, "mallory")
    forged = alice.activity("Like", article_id(post))
    response = mallory.send(client, forged)
    assert response.status_code == 403
    assert not Like.objects.exists()


def test_the_inbox_refuses_get(client: Client) -> None:
    assert client.get("/ap/inbox").status_code == 405


def test_a_too_large_activity_is_refused(client: Client, mastodon_user: RemoteAccount, post, settings) -> None:
    settings.FEDERATION_MAX_BODY_BYTES = 1000
    note = mastodon_user.note(article_id(post), "<p>" + "long " * 400 + "</p>")
    response = mastodon_user.send(client, mastodon_user.activity("Create", note))
    assert response.status_code == 413
    assert not Comment.objects.exists()


def test_an_instance_sending_too_fast_is_slowed(client: Client, mastodon_user: RemoteAccount, post, settings) -> None:
    settings.FEDERATION_INBOX_RATE = "2/m"
    codes = [mastodon_user.send(client, mastodon_user.activity("Like", article_id(post))).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


def test_a_blocked_instance_is_refused_before_its_key_is_fetched(client: Client, mastodon_user, post, milo) -> None:
    from blog.federation.blocks import block_instance

    block_instance(mastodon_user.server.domain, "spam", milo)
    response = mastodon_user.send(client, mastodon_user.activity("Like", article_id(post)))
    assert response.status_code == 403
    assert not RemoteActor.objects.exists()


def test_a_like_counts_as_a_like_once_and_undo_takes_it_back(
    client: Client, mastodon_user: RemoteAccount, post
) -> None:
    like = mastodon_user.activity("Like", article_id(post))
    mastodon_user.send(client, like)
    mastodon_user.send(client, like)  # the same activity again
    mastodon_user.send(client, mastodon_user.activity("Like", f"http://127.0.0.1:8000/p/{post.slug}/"))
    assert Post.objects.get(pk=post.pk).like_count == 1
    mastodon_user.send(client, mastodon_user.activity("Undo", like))
    assert Post.objects.get(pk=post.pk).like_count == 0


def test_a_like_of_a_draft_counts_nothing(client: Client, mastodon_user: RemoteAccount, ada) -> None:
    draft = make_post(ada, "Not yet", status=Post.Status.DRAFT)
    response = mastodon_user.send(client, mastodon_user.activity("Like", article_id(draft)))
    assert response.status_code == 202
    assert Post.objects.get(pk=draft.pk).like_count == 0


def test_a_banned_remote_account_cannot_like(client: Client, mastodon_user: RemoteAccount, post, milo) -> None:
    mastodon_user.send(client, mastodon_user.activity("Follow", PUBLICATION))
    remote = RemoteActor.objects.get(uri=mastodon_user.id)
    Ban.objects.create(user=remote.user, handle=remote.user.username, reason="spam", created_by=milo)
    mastodon_user.send(client, mastodon_user.activity("Like", article_id(post)))
    assert Post.objects.get(pk=post.pk).like_count == 0


def test_a_boost_is_a_restack_shown_under_the_post_with_the_remote_account(client, mastodon_user, post) -> None:
    boost = mastodon_user.activity("Announce", article_id(post))
    mastodon_user.send(client, boost)
    assert Post.objects.get(pk=post.pk).restack_count == 1
    page = Client().get(f"/p/{post.slug}/").content.decode()
    assert f"@alice@{mastodon_user.server.domain}" in page
    assert mastodon_user.server.base + "/avatar.png" not in page  # remote media is not hotlinked
    mastodon_user.send(client, mastodon_user.activity("Undo", boost))
    assert Post.objects.get(pk=post.pk).restack_count == 0
    assert not Restack.objects.exists()


def test_a_reply_is_a_comment_held_by_the_same_rules(client: Client, mastodon_user: RemoteAccount, post) -> None:
    note = mastodon_user.note(
        article_id(post), '<p>Lovely piece <script>alert(1)</script><a href="https://x.example">link</a></p>'
    )
    response = mastodon_user.send(client, mastodon_user.activity("Create", note))
    assert response.status_code == 202
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.HELD
    assert comment.reasons == ["first comment from this reader"]
    assert "<script" not in comment.body_html and "alert(1)" not in comment.body_html
    assert "Lovely piece" not in Client().get(f"/p/{post.slug}/").content.decode()


def test_a_reply_is_published_when_the_rules_let_it_through(client, mastodon_user, post, mailoutbox) -> None:
    relax_moderation()
    note = mastodon_user.note(f"http://127.0.0.1:8000/p/{post.slug}/", "<p>Lovely <em>piece</em></p>")
    mastodon_user.send(client, mastodon_user.activity("Create", note))
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.APPROVED
    assert "<em>piece</em>" in comment.body_html
    page = Client().get(f"/p/{post.slug}/").content.decode()
    assert "Lovely" in page and f"@alice@{mastodon_user.server.domain}" in page
    assert [message.to for message in mailoutbox] == [["ada@example.com"]]  # the author hears of it


def test_a_reply_to_a_reply_is_threaded(client: Client, mastodon_user: RemoteAccount, post) -> None:
    relax_moderation()
    first = mastodon_user.note(article_id(post), "<p>First</p>")
    mastodon_user.send(client, mastodon_user.activity("Create", first))
    mastodon_user.send(client, mastodon_user.activity("Create", mastodon_user.note(first["id"], "<p>Second</p>")))
    second = Comment.objects.get(body="Second")
    assert second.reply_to == Comment.objects.get(body="First") and second.level == 2


def test_a_followers_only_reply_is_never_published(client: Client, mastodon_user: RemoteAccount, post) -> None:
    relax_moderation()
    note = mastodon_user.note(article_id(post), "<p>Just for my followers</p>", public=False)
    mastodon_user.send(client, mastodon_user.activity("Create", note))
    assert not Comment.objects.exists()


def test_a_reply_with_a_disallowed_phrase_is_spam(client: Client, mastodon_user: RemoteAccount, post) -> None:
    relax_moderation(disallowed_words="cheap pills")
    mastodon_user.send(
        client, mastodon_user.activity("Create", mastodon_user.note(article_id(post), "<p>cheap pills</p>"))
    )
    assert Comment.objects.get().status == Comment.Status.SPAM


def test_delete_hides_the_reply(client: Client, mastodon_user: RemoteAccount, post) -> None:
    relax_moderation()
    note = mastodon_user.note(article_id(post), "<p>Regretted</p>")
    mastodon_user.send(client, mastodon_user.activity("Create", note))
    tombstone = {"id": note["id"], "type": "Tombstone"}
    mastodon_user.send(client, mastodon_user.activity("Delete", tombstone))
    assert Comment.objects.get().is_deleted
    assert "Regretted" not in Client().get(f"/p/{post.slug}/").content.decode()


def test_someone_else_cannot_delete_a_reply(client: Client, remote_server, post) -> None:
    relax_moderation()
    alice, mallory = RemoteAccount(remote_server, "alice"), RemoteAccount(remote_server, "mallory")
    note = alice.note(article_id(post), "<p>Mine</p>")
    alice.send(client, alice.activity("Create", note))
    mallory.send(client, mallory.activity("Delete", note["id"]))
    assert not Comment.objects.get().is_deleted


def test_a_reply_to_a_readers_comment_notifies_them_like_a_local_reply(client, mastodon_user, post, rosa, mailoutbox):
    from tests.factories import comment_as

    relax_moderation()
    with mastodon_user.server.capture(execute=True):
        local = comment_as(rosa, post, "The tides were late this year.")
    mailoutbox.clear()
    note = mastodon_user.note(f"http://127.0.0.1:8000/p/{post.slug}/comments/{local.pk}/", "<p>Not where I live.</p>")
    mastodon_user.send(client, mastodon_user.activity("Create", note))
    reply = Comment.objects.get(body="Not where I live.")
    assert reply.reply_to == local
    assert sorted(message.to[0] for message in mailoutbox) == ["ada@example.com", "rosa@example.com"]


def test_a_banned_remote_account_cannot_reply(client: Client, mastodon_user: RemoteAccount, post, milo) -> None:
    relax_moderation()
    mastodon_user.send(client, mastodon_user.activity("Follow", PUBLICATION))
    remote = RemoteActor.objects.get(uri=mastodon_user.id)
    Ban.objects.create(user=remote.user, handle=remote.user.username, reason="spam", created_by=milo)
    response = mastodon_user.send(
        client, mastodon_user.activity("Create", mastodon_user.note(article_id(post), "<p>Hi</p>"))
    )
    assert response.status_code == 202 and "refused" in response.json()["result"]
    assert not Comment.objects.exists()


def test_an_overlong_id_is_refused_with_a_reason(client: Client, mastodon_user: RemoteAccount, post) -> None:
    like = mastodon_user.activity("Like", article_id(post))
    like["id"] = mastodon_user.id + "#" + "x" * 600
    response = mastodon_user.send(client, like)
    assert response.status_code == 400 and "longer" in response.json()["error"]
    assert Post.objects.get(pk=post.pk).like_count == 0


def test_readers_can_flag_a_remote_reply_like_any_comment(client: Client, mastodon_user: RemoteAccount, post, rosa):
    from blog.models import Flag

    relax_moderation()
    mastodon_user.send(client, mastodon_user.activity("Create", mastodon_user.note(article_id(post), "<p>Rude</p>")))
    reply = Comment.objects.get()
    reader = Client()
    reader.force_login(rosa)
    response = reader.post(f"/comments/{reply.pk}/flag/", {"reason": "abuse"})
    assert response.status_code in (200, 302)
    assert Flag.objects.get().comment == reply
    assert Comment.objects.get().flag_count == 1
