"""What a staff flag alone does not allow: permissions are explicit."""

import pytest
from django.core import mail

from accounts.roles import MODERATORS
from blog.discussion import comments
from blog.models import Comment, Delivery, ModerationSettings, Post, Subscriber
from tests.factories import grant, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(ada, rosa) -> Comment:
    ModerationSettings.objects.update_or_create(pk=1, defaults={"hold_first_comment": True})
    return comments.post_comment(make_post(ada), rosa, "Waiting for a moderator", form_age=10).comment


def test_a_staff_flag_alone_does_not_open_the_moderation_queue(client, kit, held) -> None:
    client.force_login(kit)
    assert client.get("/moderation/").status_code == 403
    assert client.post("/moderation/", {"action": "approve", "ids": [held.pk]}).status_code == 403
    assert Comment.objects.get(pk=held.pk).status == "held"


def test_moderators_by_permission_use_the_queue(client, held) -> None:
    client.force_login(make_user("milo", role=MODERATORS))
    assert client.get("/moderation/").status_code == 200
    client.post("/moderation/", {"action": "approve", "ids": [held.pk]})
    assert Comment.objects.get(pk=held.pk).status == "approved"


def test_admin_moderation_actions_need_the_moderation_permission(client, held) -> None:
    staff = grant(make_user("kit", is_staff=True), "blog.view_comment", "blog.change_comment")
    client.force_login(staff)
    page = client.get("/admin/blog/comment/").content.decode()
    assert 'value="approve"' not in page
    client.post("/admin/blog/comment/", {"action": "approve", "_selected_action": [held.pk]})
    assert Comment.objects.get(pk=held.pk).status == "held"
    client.force_login(grant(staff, "blog.moderate_comment"))
    assert 'value="approve"' in client.get("/admin/blog/comment/").content.decode()


def test_admin_publish_actions_need_the_editor_permission(client, bo) -> None:
    post = make_post(bo, "Bo's draft", status=Post.Status.DRAFT)
    staff = grant(make_user("kit", is_staff=True), "blog.view_post", "blog.change_post")
    client.force_login(staff)
    assert 'value="publish"' not in client.get("/admin/blog/post/").content.decode()
    client.post("/admin/blog/post/", {"action": "publish", "_selected_action": [post.pk]})
    assert Post.objects.get(pk=post.pk).status == Post.Status.DRAFT
    # change_post in the admin is not every author's post either.
    assert client.post(f"/admin/blog/post/{post.pk}/change/", {"title": "Hijacked"}).status_code in (302, 403)
    assert Post.objects.get(pk=post.pk).title == "Bo's draft"
    client.force_login(grant(staff, "blog.change_any_post"))
    client.post("/admin/blog/post/", {"action": "publish", "_selected_action": [post.pk]})
    assert Post.objects.get(pk=post.pk).status == Post.Status.PUBLISHED


def test_the_moderation_digest_goes_to_moderators_not_to_all_staff(kit, held) -> None:
    from blog.tasks import send_moderation_digest

    make_user("milo", role=MODERATORS)
    send_moderation_digest.delay()
    assert [m.to for m in mail.outbox] == [["milo@example.com"]]


def failed_send(post: Post) -> None:
    from blog.newsletter import delivery

    Subscriber.objects.create(email="grace@example.com", status="active")
    send = delivery.create_send(post)
    Delivery.objects.filter(send=send).update(status="failed", error="550 5.1.1 <grace@example.com>: no such user")


def test_authors_see_failed_addresses_masked(client, ada) -> None:
    post = make_post(ada, "Sent out")
    failed_send(post)
    client.force_login(ada)
    page = client.get(f"/write/{post.pk}/send/").content.decode()
    assert "grace@example.com" not in page
    assert "g…@example.com" in page and "no such user" in page


def test_those_who_manage_subscribers_see_failed_addresses(client, ada) -> None:
    post = make_post(ada, "Sent out")
    failed_send(post)
    client.force_login(grant(ada, "blog.manage_subscribers"))
    assert "grace@example.com" in client.get(f"/write/{post.pk}/send/").content.decode()
