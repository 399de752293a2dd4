"""The write API through HTTP: each endpoint's happy path through the desk's
own functions, its scope (403 without it, 401 revoked or missing), its bad
input (a clear 4xx, nothing written) and GET refused."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from blog.integrations import apikeys
from blog.models import Comment, ModerationLog, Post, PostImage, Send, Subscriber
from tests.factories import grant, make_post, make_subscribers


@pytest.fixture
def owner(db):
    """The publication's owner: writes and publishes any post, moderates, manages integrations."""
    from accounts.roles import EDITORS, MODERATORS
    from tests.factories import make_user

    olga = make_user("olga")
    from django.contrib.auth.models import Group

    olga.groups.add(*Group.objects.filter(name__in=[EDITORS, MODERATORS]))
    return grant(olga, "blog.manage_integrations", "blog.manage_subscribers")


def key_for(owner, *scopes: str, trusted: bool = False) -> str:
    return apikeys.create_key(owner, "Tool", list(scopes), trusted_import=trusted).secret


def call(client, method: str, url: str, key: str | None, json: dict | None = None, **extra):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    send = getattr(client, method)
    if json is None:
        return send(url, headers=headers, **extra)
    return send(url, json, content_type="application/json", headers=headers)


# --- Posts --------------------------------------------------------------------------


def test_a_tool_writes_a_draft_in_markdown(client, owner) -> None:
    key = key_for(owner, "write_posts")
    body = {"title": "From the API", "body": "Hello *world*.", "tags": ["economics", "trade"]}
    response = call(client, "post", "/api/v1/posts", key, body)
    assert response.status_code == 201, response.content
    post = Post.objects.get(title="From the API")
    assert response.json()["id"] == post.pk and response.json()["status"] == "draft"
    assert post.author == owner and "<em>world</em>" in post.body_html
    assert sorted(post.tags.names()) == ["economics", "trade"]


def test_updating_changes_only_the_fields_given(client, owner) -> None:
    post = make_post(owner, "Kept title", body="Old body", status="draft")
    key = key_for(owner, "write_posts")
    response = call(client, "patch", f"/api/v1/posts/{post.pk}", key, {"body": "New **body**"})
    assert response.status_code == 200, response.content
    post.refresh_from_db()
    assert post.title == "Kept title" and "<strong>body</strong>" in post.body_html


@pytest.mark.parametrize(
    ("body", "message"),
    [({"title": "  ", "body": "x"}, "title: This field is required."), ({"body": "no title"}, "title"),
     ({"title": "x" * 201, "body": "x"}, "200")],
)  # fmt: skip
def test_a_bad_post_is_refused_clearly_and_nothing_is_saved(client, owner, body, message) -> None:
    response = call(client, "post", "/api/v1/posts", key_for(owner, "write_posts"), body)
    assert response.status_code in (400, 422)
    assert message in str(response.json()["detail"])
    assert not Post.objects.exists()


def test_a_taken_slug_is_refused(client, owner) -> None:
    make_post(owner, "First", slug="taken")
    response = call(client, "post", "/api/v1/posts", key_for(owner, "write_posts"),
                    {"title": "Second", "body": "x", "slug": "taken"})  # fmt: skip
    assert response.status_code == 400
    assert "permalink" in response.json()["detail"]
    assert Post.objects.count() == 1


def test_publishing_queues_the_email_as_the_desk_does(client, owner, django_capture_on_commit_callbacks) -> None:
    make_subscribers(active=2)
    post = make_post(owner, "Going out", status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", f"/api/v1/posts/{post.pk}/publish", key_for(owner, "write_posts"), {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    assert Send.objects.filter(post=post).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["active0@example.com", "active1@example.com"]
    again = call(client, "post", f"/api/v1/posts/{post.pk}/publish", key_for(owner, "write_posts"), {})
    assert again.status_code == 400 and "already" in again.json()["detail"]


def test_publishing_for_the_web_only_sends_nothing(client, owner, django_capture_on_commit_callbacks) -> None:
    make_subscribers(active=1)
    post = make_post(owner, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        call(client, "post", f"/api/v1/posts/{post.pk}/publish", key_for(owner, "write_posts"),
             {"email_subscribers": False})  # fmt: skip
    assert Post.objects.get(pk=post.pk).is_live
    assert not mail.outbox and not Send.objects.exists()


def test_scheduling_and_unpublishing(client, owner) -> None:
    post = make_post(owner, status="draft")
    key = key_for(owner, "write_posts")
    when = (timezone.now() + timedelta(days=1)).isoformat()
    response = call(client, "post", f"/api/v1/posts/{post.pk}/schedule", key, {"publish_at": when})
    assert response.status_code == 200 and response.json()["status"] == "scheduled"
    live = make_post(owner, "Live")
    response = call(client, "post", f"/api/v1/posts/{live.pk}/unpublish", key)
    assert response.json()["status"] == "draft"


def test_scheduling_in_the_past_is_refused(client, owner) -> None:
    post = make_post(owner, status="draft")
    when = (timezone.now() - timedelta(hours=1)).isoformat()
    response = call(client, "post", f"/api/v1/posts/{post.pk}/schedule", key_for(owner, "write_posts"),
                    {"publish_at": when})  # fmt: skip
    assert response.status_code == 400
    assert "future" in response.json()["detail"]
    assert Post.objects.get(pk=post.pk).status == "draft"


def test_an_authors_key_cannot_touch_another_authors_post(client, ada, bo) -> None:
    theirs = make_post(bo, "Bo's", status="draft")
    key = key_for(ada, "write_posts")
    assert call(client, "patch", f"/api/v1/posts/{theirs.pk}", key, {"title": "Mine"}).status_code == 404
    assert call(client, "post", f"/api/v1/posts/{theirs.pk}/publish", key, {}).status_code == 404
    assert Post.objects.get(pk=theirs.pk).title == "Bo's"


def test_a_readers_key_cannot_write_posts(client, rosa) -> None:
    response = call(client, "post", "/api/v1/posts", key_for(rosa, "write_posts"), {"title": "x", "body": "y"})
    assert response.status_code == 403
    assert not Post.objects.exists()


# --- Images ---------------------------------------------------------------------------


def png(size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return SimpleUploadedFile("picture.png", buffer.getvalue(), content_type="image/png")


def test_an_image_is_uploaded_and_answered_with_its_markdown(client, owner) -> None:
    key = key_for(owner, "write_posts")
    response = client.post("/api/v1/images", {"image": png(), "alt": "A red square"},
                           headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert response.status_code == 201, response.content
    image = PostImage.objects.get()
    assert response.json()["markdown"] == f"![A red square]({image.image.url})"
    assert image.uploaded_by == owner


def test_a_file_that_is_not_an_image_is_refused(client, owner) -> None:
    key = key_for(owner, "write_posts")
    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post("/api/v1/images", {"image": fake, "alt": "x"}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400
    assert "image" in response.json()["detail"].lower()
    assert not PostImage.objects.exists()


def test_an_image_without_a_description_is_refused(client, owner) -> None:
    key = key_for(owner, "write_posts")
    response = client.post("/api/v1/images", {"image": png(), "alt": ""}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in (400, 422)
    assert not PostImage.objects.exists()


# --- Subscribers ----------------------------------------------------------------------


def test_adding_a_subscriber_keeps_double_opt_in(client, owner, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", "/api/v1/subscribers", key_for(owner, "manage_subscribers"),
                        {"email": "new@example.com", "frequency": "weekly"})  # fmt: skip
    assert response.status_code == 202, response.content
    assert response.json() == {"email": "new@example.com", "status": "pending"}
    subscriber = Subscriber.objects.get()
    assert subscriber.frequency == "weekly" and subscriber.source.startswith("api:")
    [message] = mail.outbox
    assert message.to == ["new@example.com"] and "Confirm" in message.subject


def test_a_key_trusted_to_import_adds_active_subscribers_without_email(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    key = key_for(owner, "manage_subscribers", trusted=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", "/api/v1/subscribers", key, {"email": "imported@example.com"})
    assert response.json()["status"] == "active"
    assert not mail.outbox


def test_a_trusted_key_does_not_bring_back_someone_who_complained(client, owner) -> None:
    Subscriber.objects.create(email="left@example.com", status="complained")
    key = key_for(owner, "manage_subscribers", trusted=True)
    response = call(client, "post", "/api/v1/subscribers", key, {"email": "LEFT@example.com"})
    assert response.json()["status"] == "complained"


@pytest.mark.parametrize("body", [{"email": "not-an-address"}, {"email": "a@example.com", "frequency": "hourly"}, {}])
def test_a_bad_subscriber_is_refused_and_nothing_saved(client, owner, body) -> None:
    response = call(client, "post", "/api/v1/subscribers", key_for(owner, "manage_subscribers"), body)
    assert response.status_code in (400, 422)
    assert response.json()["detail"]
    assert not Subscriber.objects.exists()


def test_unsubscribing_through_the_api(client, owner) -> None:
    Subscriber.objects.create(email="going@example.com", status="active")
    key = key_for(owner, "manage_subscribers")
    response = call(client, "post", "/api/v1/subscribers/unsubscribe", key, {"email": "Going@example.com"})
    assert response.json() == {"email": "going@example.com", "status": "unsubscribed"}
    missing = call(client, "post", "/api/v1/subscribers/unsubscribe", key, {"email": "nobody@example.com"})
    assert missing.status_code == 404


# --- Moderation -----------------------------------------------------------------------


@pytest.fixture
def held(db, ada, rosa) -> Comment:
    post = make_post(ada)
    return Comment.objects.create(post=post, author=rosa, body="Held", body_html="<p>Held</p>", status="held")


def test_moderating_logs_under_the_keys_owner(client, owner, held) -> None:
    response = call(client, "post", f"/api/v1/comments/{held.pk}/moderate", key_for(owner, "moderate"),
                    {"action": "approve", "reason": "fine"})  # fmt: skip
    assert response.json() == {"id": held.pk, "status": "approved"}
    entry = ModerationLog.objects.get(comment=held)
    assert (entry.moderator, entry.action, entry.reason) == (owner, "approve", "fine")


def test_an_unknown_moderation_action_is_refused(client, owner, held) -> None:
    response = call(client, "post", f"/api/v1/comments/{held.pk}/moderate", key_for(owner, "moderate"),
                    {"action": "ban"})  # fmt: skip
    assert response.status_code == 422
    assert Comment.objects.get(pk=held.pk).status == "held"
    assert not ModerationLog.objects.filter(comment=held).exists()


def test_a_key_whose_owner_cannot_moderate_gets_403(client, ada, held) -> None:
    response = call(client, "post", f"/api/v1/comments/{held.pk}/moderate", key_for(ada, "moderate"),
                    {"action": "approve"})  # fmt: skip
    assert response.status_code == 403


# --- Keys and scopes, for every write endpoint ----------------------------------------

WRITES = [
    ("post", "/api/v1/posts", "write_posts", {"title": "t", "body": "b"}),
    ("patch", "/api/v1/posts/{post}", "write_posts", {"title": "t"}),
    ("post", "/api/v1/posts/{post}/publish", "write_posts", {}),
    ("post", "/api/v1/posts/{post}/schedule", "write_posts", {"publish_at": "2099-01-01T00:00:00Z"}),
    ("post", "/api/v1/posts/{post}/unpublish", "write_posts", {}),
    ("post", "/api/v1/images", "write_posts", None),
    ("post", "/api/v1/subscribers", "manage_subscribers", {"email": "x@example.com"}),
    ("post", "/api/v1/subscribers/unsubscribe", "manage_subscribers", {"email": "x@example.com"}),
    ("post", "/api/v1/comments/{comment}/moderate", "moderate", {"action": "approve"}),
]


def _snapshot() -> tuple:
    return (list(Post.objects.values_list("pk", "title", "status")), list(Subscriber.objects.values_list("email")),
            list(Comment.objects.values_list("status")), PostImage.objects.count())  # fmt: skip


@pytest.mark.parametrize(("method", "url", "scope", "body"), WRITES)
def test_every_write_refuses_the_wrong_scope_a_revoked_key_no_key_and_get(
    client, owner, held, method, url, scope, body
) -> None:
    url = url.format(post=held.post_id, comment=held.pk)
    other_scope = "read" if scope != "read" else "moderate"
    before = _snapshot()

    def send(key: str):
        if body is None:
            return client.post(url, {"image": png(), "alt": "x"}, headers={"Authorization": f"Bearer {key}"})
        return call(client, method, url, key, body)

    assert send(key_for(owner, other_scope)).status_code == 403
    revoked = apikeys.create_key(owner, "Old", [scope])
    apikeys.revoke_key(revoked.key)
    assert send(revoked.secret).status_code == 401
    assert send("").status_code == 401
    assert _snapshot() == before
    if method == "post" and "{" not in url and url != "/api/v1/posts":
        assert client.get(url).status_code == 405


def test_a_session_cookie_is_no_key(client, owner) -> None:
    """The API takes keys only, so no page can write through it with a reader's cookie (no CSRF to defeat)."""
    client.force_login(owner)
    assert client.post("/api/v1/posts", {"title": "t", "body": "b"}, content_type="application/json").status_code == 401
    assert not Post.objects.exists()


def test_writes_are_rate_limited_per_key(client, owner, settings, monkeypatch) -> None:
    from types import SimpleNamespace

    from blog.api import access
    from blog.shared import ratelimits

    clock = SimpleNamespace(time=lambda: 600.0)
    monkeypatch.setattr(ratelimits, "time", clock)
    monkeypatch.setattr(access, "time", clock)
    settings.API_KEY_RATE = "2/m"
    key = key_for(owner, "manage_subscribers")
    codes = [call(client, "post", "/api/v1/subscribers", key, {"email": f"s{i}@example.com"}).status_code
             for i in range(3)]  # fmt: skip
    assert codes == [202, 202, 429]
    assert Subscriber.objects.count() == 2
