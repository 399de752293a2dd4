"""A reader's own account: notifications, their data, closing the account, the account pages' look."""

import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from blog.models import Comment, CommentRevision, Like, Post, Restack, Subscriber
from tests.factories import PASSWORD, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Harbour bill")


def comment(post: Post, author: User, body: str, parent: Comment | None = None) -> Comment:
    return Comment.objects.create(post=post, author=author, body=body, body_html=f"<p>{body}</p>", parent=parent,
                                  reply_to=parent, level=2 if parent else 1)  # fmt: skip


@pytest.fixture
def rosas_things(post, rosa, bo):
    first = comment(post, rosa, "Rosa's question, answered")
    comment(post, bo, "Bo's answer", parent=first)
    alone = comment(post, rosa, "Rosa's lonely remark")
    CommentRevision.objects.create(comment=alone, body="Rosa's first draft of the remark", written_at=timezone.now())
    Like.objects.create(post=post, user=rosa)
    Post.objects.filter(pk=post.pk).update(like_count=1, restack_count=1)
    Restack.objects.create(post=post, user=rosa, note="Worth reading")
    Subscriber.objects.create(email="rosa@example.com", user=rosa, status=Subscriber.Status.ACTIVE,
                              consent_ip="203.0.113.8", confirmed_at=timezone.now())  # fmt: skip
    return first, alone


# --- Download my data ----------------------------------------------------------


def test_a_reader_downloads_their_profile_comments_likes_and_subscription(client, rosa, rosas_things) -> None:
    client.force_login(rosa)
    assert "Download your data" in client.get("/settings/data/").content.decode()
    response = client.get("/settings/data/?download=json")
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"] and "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["profile"]["handle"] == "rosa" and data["profile"]["email"] == "rosa@example.com"
    assert [c["body"] for c in data["comments"]] == ["Rosa's question, answered", "Rosa's lonely remark"]
    assert [like["post"] for like in data["likes"]] == ["Harbour bill"]
    assert data["restacks"][0]["note"] == "Worth reading"
    assert data["subscriptions"][0]["consent_ip"] == "203.0.113.8"
    assert "Bo's answer" not in response.content.decode()


def test_the_data_download_is_the_signed_in_readers_own(client, rosa, bo, rosas_things) -> None:
    assert client.get("/settings/data/?download=json").status_code == 302
    client.force_login(bo)
    data = json.loads(client.get("/settings/data/?download=json").content)
    assert data["profile"]["handle"] == "bo" and [c["body"] for c in data["comments"]] == ["Bo's answer"]


def test_downloads_are_rate_limited(client, rosa) -> None:
    client.force_login(rosa)
    codes = [client.get("/settings/data/?download=json").status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


# --- Delete my account -----------------------------------------------------------


def test_the_page_says_what_happens_to_comments_before_anything_is_deleted(client, rosa, rosas_things) -> None:
    client.force_login(rosa)
    page = client.get("/settings/delete/").content.decode()
    assert "Your comments are deleted" in page and "replied to stays as “deleted”" in page
    assert "rosa@example.com" in page  # the newsletter address that goes with it
    assert page.index("Your comments are deleted") < page.index("Delete my account</button>")
    assert User.objects.get(pk=rosa.pk).is_active


def test_a_reader_deletes_their_account(client, rosa, bo, post, rosas_things) -> None:
    answered, alone = rosas_things
    client.force_login(rosa)
    response = client.post("/settings/delete/confirm/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    gone = User.objects.get(pk=rosa.pk)
    assert not gone.is_active and not gone.has_usable_password()
    assert "rosa" not in (gone.username + gone.email + gone.display_name).lower()
    assert not EmailAddress.objects.filter(user=gone).exists()
    # Comments: the lonely one is gone, the answered one an empty placeholder, Bo's reply kept.
    assert not Comment.objects.filter(pk=alone.pk).exists()
    placeholder = Comment.objects.get(pk=answered.pk)
    assert placeholder.is_deleted and placeholder.body == "" and placeholder.body_html == ""
    assert Comment.objects.filter(body="Bo's answer").exists()
    assert not CommentRevision.objects.exists()
    # Likes stay in the counts, re-stacks go, the newsletter address is erased.
    assert Like.objects.count() == 1 and Post.objects.get(pk=post.pk).like_count == 1
    assert not Restack.objects.exists() and Post.objects.get(pk=post.pk).restack_count == 0
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "unsubscribed" and "rosa" not in subscriber.email and subscriber.consent_ip is None
    # Signed out, cannot sign in again, and the profile page is gone.
    assert client.get("/settings/profile/").status_code == 302
    assert not client.login(email="rosa@example.com", password=PASSWORD)
    assert client.get("/@rosa/").status_code == 404
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Rosa's question" not in page and "Bo's answer" in page


def test_a_wrong_password_deletes_nothing(client, rosa, rosas_things) -> None:
    client.force_login(rosa)
    for data in ({"password": "wrong"}, {}):
        response = client.post("/settings/delete/confirm/", data)
        assert response.status_code == 400
        page = response.content.decode()
        assert "That is not your password" in page or "Enter your password" in page
    assert User.objects.get(pk=rosa.pk).is_active and Comment.objects.filter(author=rosa).count() == 2


def test_deleting_needs_a_post_and_a_signed_in_reader(client, rosa) -> None:
    assert client.post("/settings/delete/confirm/", {"password": PASSWORD}).status_code == 302
    client.force_login(rosa)
    assert client.get("/settings/delete/confirm/").status_code == 405
    assert User.objects.get(pk=rosa.pk).is_active


def test_a_reader_can_only_delete_their_own_account(client, rosa) -> None:
    """There is no account id to change: the form always closes the signed-in account."""
    mallory = make_user("mallory")
    client.force_login(mallory)
    response = client.post("/settings/delete/confirm/", {"password": PASSWORD, "user": rosa.pk})
    assert response.status_code == 302
    assert User.objects.get(pk=rosa.pk).is_active and not User.objects.get(pk=mallory.pk).is_active


def test_an_author_with_posts_is_told_who_can_close_the_account(client, ada, post) -> None:
    client.force_login(ada)
    page = client.get("/settings/delete/").content.decode()
    assert "You have written 1 post" in page and "Delete my account</button>" not in page
    assert client.post("/settings/delete/confirm/", {"password": PASSWORD}).status_code == 400
    assert User.objects.get(pk=ada.pk).is_active


# --- Notifications -------------------------------------------------------------------


def test_one_page_holds_every_email_switch(client, rosa, rosas_things) -> None:
    client.force_login(rosa)
    page = client.get("/settings/notifications/").content.decode()
    assert 'name="email_on_replies"' in page and 'name="newsletter-frequency"' in page
    data = {"newsletter-frequency": "weekly", "newsletter-digest_hour": "7", "newsletter-digest_weekday": "4",
            "newsletter-timezone": "Europe/Berlin"}  # fmt: skip
    assert client.post("/settings/notifications/", data).status_code == 302
    rosa.refresh_from_db()
    subscriber = Subscriber.objects.get()
    assert rosa.email_on_replies is False
    assert (subscriber.frequency, subscriber.digest_hour, subscriber.timezone) == ("weekly", 7, "Europe/Berlin")


def test_notifications_need_a_signed_in_reader(client, rosa) -> None:
    response = client.post("/settings/notifications/", {"email_on_replies": ""})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert User.objects.get(pk=rosa.pk).email_on_replies is True


def test_bad_notification_input_saves_nothing(client, rosa, rosas_things) -> None:
    client.force_login(rosa)
    data = {"newsletter-frequency": "hourly", "newsletter-digest_hour": "7", "newsletter-digest_weekday": "4",
            "newsletter-timezone": "US/Eastern"}  # fmt: skip
    response = client.post("/settings/notifications/", data)
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert User.objects.get(pk=rosa.pk).email_on_replies is True
    assert Subscriber.objects.get().frequency == "post"


def test_moderation_and_comment_switches_show_only_to_those_they_concern(client, rosa, ada) -> None:
    client.force_login(rosa)
    page = client.get("/settings/notifications/").content.decode()
    assert 'name="email_on_comments"' not in page and 'name="email_on_moderation"' not in page
    client.force_login(ada)
    assert 'name="email_on_comments"' in client.get("/settings/notifications/").content.decode()


# --- The account pages' look ---------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/email/",
            "/accounts/password/change/", "/settings/profile/", "/settings/notifications/", "/settings/delete/"],
)  # fmt: skip
def test_account_pages_are_in_sentence_case_with_one_primary_button_per_form(client, rosa, url) -> None:
    if not url.startswith(("/accounts/login", "/accounts/signup", "/accounts/password/reset")):
        client.force_login(rosa)
    page = client.get(url).content.decode()
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1).split("·")[0].strip()
    assert title[1:] == title[1:].lower() or title.startswith("Your"), title
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        buttons = re.findall(r"<button\b[^>]*>", form)
        primary = [b for b in buttons if "secondary" not in b and 'class="link"' not in b]
        assert len(primary) <= 1, (url, buttons)
    for heading in re.findall(r"<h1[^>]*>\s*(.*?)\s*</h1>", page, re.S):
        words = heading.split()
        assert all(not w[0].isupper() for w in words[1:] if w not in {"ID"}), heading


def test_the_password_change_is_linked_from_the_settings(client, rosa) -> None:
    client.force_login(rosa)
    page = client.get("/settings/profile/").content.decode()
    assert 'href="/accounts/password/change/"' in page and 'href="/settings/delete/"' in page
