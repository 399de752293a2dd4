"""No lost work in the editor: live posts' autosave, revisions compared and restored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blog.models import Post, PostRevision
from tests.blog.test_desk import form
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(ada) -> Post:
    return make_post(ada, "Harbour bill", body="First paragraph.\n\nSecond paragraph.")


def autosave(client, post: Post, **fields) -> dict:
    data = {"title": post.title, "subtitle": "", "body": post.body, "excerpt": "", **fields}
    response = client.post(f"/write/{post.pk}/autosave/", data)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_title_alone_saves_a_new_draft(client, ada) -> None:
    client.force_login(ada)
    response = client.post("/write/new/autosave/", {"title": "H", "body": ""})
    assert response.status_code == 200
    assert Post.objects.get().title == "H"


def test_a_live_posts_autosave_waits_in_the_editor_until_update(client, ada, live) -> None:
    client.force_login(ada)
    autosave(client, live, body="First paragraph.\n\nA better second paragraph.")
    assert "A better second" not in client.get(live.get_absolute_url()).content.decode()
    editor = client.get(f"/write/{live.pk}/").content.decode()
    assert "A better second paragraph." in editor and "Readers still see the post as it was" in editor
    version = editor.split('name="version" value="')[1].split('"')[0]
    body = "First paragraph.\n\nA better second paragraph."
    response = client.post(f"/write/{live.pk}/", form(title=live.title, body=body, version=version))
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Post.objects.get(pk=live.pk).body == body
    assert not PostRevision.objects.filter(kind="autosave").exists()
    assert "Readers still see" not in client.get(f"/write/{live.pk}/").content.decode()


def test_a_second_autosave_replaces_the_first(client, ada, live) -> None:
    client.force_login(ada)
    autosave(client, live, body="one")
    autosave(client, live, body="two")
    assert list(PostRevision.objects.filter(kind="autosave").values_list("body", flat=True)) == ["two"]


def test_dropping_a_live_posts_unsaved_changes(client, ada, bo, live) -> None:
    client.force_login(ada)
    autosave(client, live, body="kept aside")
    url = f"/write/{live.pk}/revisions/unsaved/discard/"
    assert client.get(url).status_code == 405
    client.force_login(bo)
    assert client.post(url).status_code == 404
    assert PostRevision.objects.filter(kind="autosave").exists()
    client.force_login(ada)
    assert client.post(url).status_code == 302
    assert not PostRevision.objects.filter(kind="autosave").exists()
    assert "kept aside" not in client.get(f"/write/{live.pk}/").content.decode()


def test_an_autosave_of_a_live_post_changed_elsewhere_is_a_conflict(client, ada, live) -> None:
    client.force_login(ada)
    response = client.post(f"/write/{live.pk}/autosave/", {"title": "x", "body": "y", "version": "2020-01-01T00:00"})
    assert response.status_code == 409
    assert not PostRevision.objects.exists()


def _save(client, post: Post, body: str) -> None:
    editor = client.get(f"/write/{post.pk}/").content.decode()
    version = editor.split('name="version" value="')[1].split('"')[0]
    response = client.post(f"/write/{post.pk}/", form(title=post.title, body=body, version=version))
    assert response.status_code == 302


def test_each_save_by_hand_keeps_a_revision_to_compare(client, ada, live) -> None:
    client.force_login(ada)
    _save(client, live, "First paragraph.\n\nSecond paragraph, longer.")
    _save(client, live, "First paragraph.\n\nThird version.")
    first = PostRevision.objects.order_by("created_at", "pk").first()
    listing = client.get(f"/write/{live.pk}/revisions/").content.decode()
    assert listing.count("/revisions/") >= 2 and timezone.localtime().strftime("%Z") in listing
    page = client.get(f"/write/{live.pk}/revisions/{first.pk}/").content.decode()
    assert "<del>- Third version.</del>" in page
    assert "<ins>+ Second paragraph, longer.</ins>" in page
    assert "First paragraph." in page  # context around the change


def test_restoring_a_revision_puts_its_text_back_and_keeps_the_replaced_one(client, ada, live) -> None:
    client.force_login(ada)
    _save(client, live, "Version A")
    _save(client, live, "Version B")
    version_a = PostRevision.objects.get(body="Version A")
    response = client.post(f"/write/{live.pk}/revisions/{version_a.pk}/restore/")
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.body == "Version A"
    assert PostRevision.objects.filter(body="Version B").exists()


def test_revisions_are_for_the_posts_editors_only(client, ada, bo, rosa, live) -> None:
    client.force_login(ada)
    _save(client, live, "Version A")
    revision = PostRevision.objects.get()
    urls = [f"/write/{live.pk}/revisions/", f"/write/{live.pk}/revisions/{revision.pk}/"]
    restore = f"/write/{live.pk}/revisions/{revision.pk}/restore/"
    client.logout()
    assert [client.get(url).status_code for url in urls] == [302, 302]
    assert client.post(restore).status_code == 302 and Post.objects.get(pk=live.pk).body == "Version A"
    client.force_login(rosa)
    assert [client.get(url).status_code for url in urls] == [403, 403]
    client.force_login(bo)
    assert [client.get(url).status_code for url in urls] == [404, 404]
    Post.objects.filter(pk=live.pk).update(body="Later")
    assert client.post(restore).status_code == 404
    client.force_login(ada)
    assert client.get(restore).status_code == 405
    assert Post.objects.get(pk=live.pk).body == "Later"


def test_a_revision_of_another_post_is_not_found(client, ada, live) -> None:
    other = make_post(ada, "Other")
    client.force_login(ada)
    _save(client, other, "Other text")
    revision = PostRevision.objects.get(post=other)
    assert client.get(f"/write/{live.pk}/revisions/{revision.pk}/").status_code == 404
    assert client.post(f"/write/{live.pk}/revisions/{revision.pk}/restore/").status_code == 404
    assert Post.objects.get(pk=live.pk).body == live.body


def test_a_scheduled_posts_autosave_waits_too(client, ada) -> None:
    post = make_post(ada, "Later", status=Post.Status.SCHEDULED, published_at=timezone.now() + timedelta(days=1))
    client.force_login(ada)
    message = autosave(client, post, body="Edited while waiting")["message"]
    assert "once you save it" in message
    assert Post.objects.get(pk=post.pk).body == post.body
    assert "press <strong>Save draft</strong>" in client.get(f"/write/{post.pk}/").content.decode()
