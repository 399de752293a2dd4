"""Bans (issue 11, items 3 and 6): what they cover, whom they name, who can change them."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from blog.discussion import bans, comments, engagement, moderation
from blog.models import (
    Ban,
    Comment,
    CommentLike,
    Flag,
    Like,
    ModerationLog,
    ModerationSettings,
    Post,
    Restack,
    Subscriber,
)
from tests.factories import make_post, make_user, relax_moderation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rules() -> ModerationSettings:
    return relax_moderation()


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Banned from here")


def say(client, post: Post, body: str, ip: str = "198.51.100.20"):
    data = {"body": body, "ts": moderation.form_token()}
    return client.post(f"/p/{post.slug}/comments/new/", data, REMOTE_ADDR=ip)


def ban(milo: User, comment: Comment, *, days: int | None = 7, ip_days: int | None = None) -> None:
    moderation.ban_author(milo, comment, days=days, reason="harassment", ip_days=ip_days)


@pytest.fixture
def troll(post, milo) -> User:
    """A reader banned for harassment, with one approved comment left up."""
    troll = make_user("troll")
    comment = comments.post_comment(post, troll, "Something nasty", ip="203.0.113.66", form_age=10).comment
    ban(milo, comment)
    return User.objects.get(pk=troll.pk)


# --- What a ban covers ---------------------------------------------------------


def test_a_banned_reader_cannot_like_a_post(client, troll, post) -> None:
    client.force_login(troll)
    response = client.post(f"/p/{post.slug}/like/", {"liked": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and "Harassment" in response.json()["error"]
    assert not Like.objects.exists()


def like(client, post: Post, ip: str = "198.51.100.20"):
    return client.post(f"/p/{post.slug}/like/", {"liked": "1"}, HTTP_ACCEPT="application/json", REMOTE_ADDR=ip)


def test_a_timed_ban_tells_the_reader_when_it_ends(client, troll, post) -> None:
    until = Ban.objects.get().until
    client.force_login(troll)
    response = like(client, post)
    expected = until.astimezone(timezone.get_current_timezone()).strftime("%-d %B %Y, %H:%M")
    assert response.status_code == 403
    assert response.json()["error"].startswith(f"You can't take part here until {expected}")
    assert response.json()["error"].endswith("Harassment")
    comment = client.post(f"/p/{post.slug}/comments/new/", {"body": "Again", "ts": moderation.form_token()})
    assert comment.status_code == 400 and f"until {expected}" in comment.content.decode()


def test_a_reader_banned_by_address_cannot_like_from_another_account(client, post) -> None:
    Ban.objects.create(email="t.roll@gmail.com", reason="sock puppets")
    sock = make_user("sock")
    User.objects.filter(pk=sock.pk).update(email="T.R.O.L.L+likes@googlemail.com")
    client.force_login(User.objects.get(pk=sock.pk))
    response = like(client, post)
    assert response.status_code == 403
    assert response.json()["error"] == "You can't take part here at the moment. Sock puppets"
    assert not Like.objects.exists()


def test_an_ip_ban_stops_likes_from_that_address_only_and_not_a_moderator(client, post, milo) -> None:
    Ban.objects.create(ip="203.0.113.99", reason="flooding", until=timezone.now() + timedelta(days=1))
    client.force_login(make_user("neighbour"))
    response = like(client, post, ip="203.0.113.99")
    assert response.status_code == 403 and response.json()["error"] == bans.ADDRESS_PAUSED
    assert like(client, post, ip="198.51.100.7").json() == {"liked": True, "count": 1}
    client.force_login(milo)
    assert like(client, post, ip="203.0.113.99").json() == {"liked": True, "count": 2}


def test_a_lifted_or_expired_ban_no_longer_stops_a_like(client, troll, post) -> None:
    client.force_login(troll)
    assert like(client, post).status_code == 403
    Ban.objects.update(until=timezone.now() - timedelta(minutes=1))
    assert like(client, post).json() == {"liked": True, "count": 1}


@pytest.mark.parametrize("who", ["troll", "sock", "neighbour", "milo", "rosa"])
def test_the_ban_asked_inside_the_post_query_agrees_with_refusal(post, troll, milo, who) -> None:
    Ban.objects.create(ip="203.0.113.99", reason="flooding", until=timezone.now() + timedelta(days=1))
    Ban.objects.create(email="sock@example.com", reason="a second account")
    users = {"troll": troll, "milo": milo}
    reader = users.get(who) or make_user(who)
    ip = "203.0.113.99" if who in ("neighbour", "milo") else "198.51.100.1"
    loaded = engagement.post_to_like(post.slug, reader, ip)
    # The row answers whether there is a ban; the message (with its end) comes from refusal().
    assert (bans.refusal_of(loaded, reader) is None) == (bans.refusal(reader, ip) is None)
    assert (bans.refusal(reader, ip) is None) == (who in ("milo", "rosa"))


def test_a_banned_reader_cannot_like_a_comment(client, troll, post, bo) -> None:
    other = comments.post_comment(post, bo, "Fair point", form_age=10).comment
    client.force_login(troll)
    assert client.post(f"/comments/{other.pk}/like/").status_code == 400
    assert not CommentLike.objects.exists()


def test_a_banned_reader_cannot_flag(client, troll, post, bo) -> None:
    other = comments.post_comment(post, bo, "Fair point", form_age=10).comment
    client.force_login(troll)
    assert client.post(f"/comments/{other.pk}/flag/", {"reason": "abuse"}).status_code == 400
    assert not Flag.objects.exists()


def test_a_banned_reader_cannot_restack(client, troll, post) -> None:
    client.force_login(troll)
    response = client.post(f"/p/{post.slug}/restack/", {"note": "Look at this"})
    assert response.status_code == 400 and "Harassment" in response.content.decode()
    assert not Restack.objects.exists()


def test_a_banned_reader_cannot_change_name_bio_or_avatar(client, troll) -> None:
    client.force_login(troll)
    response = client.post("/settings/profile/", {"display_name": "Moderator Team", "bio": "Official"})
    assert response.status_code == 400 and "Harassment" in response.content.decode()
    troll.refresh_from_db()
    assert (troll.display_name, troll.bio) == ("", "")


def test_a_banned_reader_can_still_turn_off_notification_emails(client, troll) -> None:
    client.force_login(troll)
    client.post("/settings/notifications/", {"email_on_replies": ""})
    assert User.objects.get(pk=troll.pk).email_on_replies is False


def test_a_banned_reader_cannot_subscribe(client, troll, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/subscribe/", {"email": "troll@example.com", "source": "home"})  # signed out: same answer
    client.force_login(troll)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/subscribe/", {"source": "home"})  # one click, signed in
    assert not Subscriber.objects.exists()


# --- Whom a ban names ----------------------------------------------------------


def test_a_ban_outlives_the_account_and_bars_signing_up_again(client, troll, post) -> None:
    troll.delete()
    ban_row = Ban.objects.get()
    assert ban_row.user is None and (ban_row.handle, ban_row.email, ban_row.ip) == (
        "troll",
        "troll@example.com",
        "203.0.113.66",
    )
    again = make_user("troll2")
    User.objects.filter(pk=again.pk).update(email="Troll@Example.com")
    client.force_login(User.objects.get(pk=again.pk))
    assert say(client, post, "I'm back").status_code == 400
    assert not Comment.objects.filter(author=again).exists()


@pytest.mark.parametrize(
    ("banned", "comes_back_as"),
    [
        ("troll@example.com", "TROLL@example.com"),
        ("troll@example.com", "troll+second@example.com"),
        ("t.roll@gmail.com", "troll@googlemail.com"),
        ("troll@gmail.com", "T.R.O.L.L+x@gmail.com"),
    ],
)
def test_ban_matching_sees_through_the_usual_address_tricks(client, post, banned, comes_back_as) -> None:
    Ban.objects.create(email=banned, reason="sock puppets")
    sock = make_user("sock")
    User.objects.filter(pk=sock.pk).update(email=comes_back_as)
    client.force_login(User.objects.get(pk=sock.pk))
    assert say(client, post, "A fresh face").status_code == 400


def test_different_people_at_gmail_are_not_confused(client, post) -> None:
    Ban.objects.create(email="troll@gmail.com", reason="sock puppets")
    other = make_user("trolley")
    User.objects.filter(pk=other.pk).update(email="trolley@gmail.com")
    client.force_login(User.objects.get(pk=other.pk))
    assert say(client, post, "Unrelated person").status_code == 302


# --- IP bans: separate, short, and nobody reads another's reason ---------------


def test_banning_a_reader_leaves_others_at_the_same_address_alone(client, troll, post, ada) -> None:
    client.force_login(ada)  # the post's author, behind the same office NAT
    assert say(client, post, "Author's reply", ip="203.0.113.66").status_code == 302
    client.force_login(make_user("colleague"))
    assert say(client, post, "Colleague's view", ip="203.0.113.66").status_code == 302


def test_an_ip_ban_is_an_explicit_short_choice_and_says_no_reason(client, post, milo) -> None:
    spammer = make_user("spammer")
    comment = comments.post_comment(post, spammer, "Flood", ip="203.0.113.99", form_age=10).comment
    ban(milo, comment, days=None, ip_days=1)
    address = Ban.objects.get(ip="203.0.113.99", handle="")
    assert address.user is None and timedelta(hours=23) < address.until - timezone.now() <= timedelta(days=1)
    client.force_login(make_user("neighbour"))
    response = say(client, post, "Just me", ip="203.0.113.99")
    page = response.content.decode()
    assert response.status_code == 400 and "paused" in page and "harassment" not in page.lower()
    Ban.objects.filter(pk=address.pk).update(until=timezone.now() - timedelta(minutes=1))
    assert say(client, post, "Just me", ip="203.0.113.99").status_code == 302


def test_a_moderator_is_not_held_back_by_an_address_ban(client, post, milo) -> None:
    Ban.objects.create(ip="203.0.113.99", reason="flooding", until=timezone.now() + timedelta(days=1))
    client.force_login(milo)
    assert say(client, post, "Moderator here", ip="203.0.113.99").status_code == 302


def test_the_queue_can_add_an_ip_ban(client, milo, post) -> None:
    held = comments.post_comment(post, make_user("spammer"), "Flood", ip="203.0.113.99", form_age=10).comment
    client.force_login(milo)
    data = {"action": "ban", "ids": [held.pk], "ban_days": "forever", "ip_ban_days": "1", "reason": "flooding"}
    client.post("/moderation/", data)
    assert Ban.objects.filter(ip="203.0.113.99", user__isnull=True).exists()
    assert Ban.objects.filter(handle="spammer", until__isnull=True).exists()


# --- A ban clears the queue ------------------------------------------------------


def test_a_ban_rejects_the_readers_waiting_comments_with_a_log_row(milo, post, rules) -> None:
    rules.hold_first_comment = True
    rules.save()
    troll = make_user("troll")
    first = comments.post_comment(post, troll, "Held one", ip="203.0.113.66", form_age=10).comment
    second = comments.post_comment(post, troll, "Held two", ip="203.0.113.66", form_age=10).comment
    ban(milo, first)
    assert set(Comment.objects.filter(author=troll).values_list("status", flat=True)) == {"rejected"}
    rows = ModerationLog.objects.filter(action="reject", comment__in=[first, second])
    assert rows.count() == 2 and all("banned" in row.reason for row in rows)
    assert not moderation.waiting().exists()


# --- Moderators see, change and lift bans ----------------------------------------


def test_moderators_see_bans_in_the_moderation_area(client, troll, milo) -> None:
    client.force_login(milo)
    page = client.get("/moderation/bans/").content.decode()
    assert "@troll" in page and "harassment" in page


def test_a_moderator_changes_a_ban_and_it_is_logged(client, troll, milo) -> None:
    ban_row = Ban.objects.get()
    client.force_login(milo)
    response = client.post(f"/moderation/bans/{ban_row.pk}/", {"reason": "harassment, twice", "until": ""})
    assert response.status_code == 302
    ban_row.refresh_from_db()
    assert (ban_row.reason, ban_row.until) == ("harassment, twice", None)
    entry = ModerationLog.objects.get(action="ban-changed")
    assert entry.moderator_handle == "milo" and entry.after == "permanent"


def test_a_ban_change_needs_a_reason(client, troll, milo) -> None:
    ban_row = Ban.objects.get()
    client.force_login(milo)
    response = client.post(f"/moderation/bans/{ban_row.pk}/", {"reason": "  ", "until": ""})
    assert response.status_code == 400 and "A ban needs a reason" in response.content.decode()
    assert Ban.objects.get().reason == "harassment"


def test_a_moderator_lifts_a_ban_and_it_is_logged(client, troll, milo, post) -> None:
    ban_row = Ban.objects.get()
    client.force_login(milo)
    question = client.get(f"/moderation/bans/{ban_row.pk}/lift/")
    assert question.status_code == 200 and "Lift this ban?" in question.content.decode()
    assert Ban.objects.get().lifted_at is None  # asking changed nothing
    client.post(f"/moderation/bans/{ban_row.pk}/lift/", {"reason": "apologised"})
    assert Ban.objects.get().lifted_at is not None
    assert ModerationLog.objects.get(action="ban-lifted").reason.endswith("apologised")
    client.force_login(troll)
    assert say(client, post, "Sorry, all").status_code == 302


def test_readers_cannot_see_or_change_bans(client, troll, rosa) -> None:
    ban_row = Ban.objects.get()
    assert client.get("/moderation/bans/").status_code == 302
    client.force_login(rosa)
    assert client.get("/moderation/bans/").status_code == 403
    assert client.post(f"/moderation/bans/{ban_row.pk}/lift/").status_code == 403
    assert Ban.objects.active().exists()


# --- Re-stack notes go through the comment rules ----------------------------------


def test_a_restack_note_with_a_disallowed_phrase_is_refused(client, rosa, post, rules) -> None:
    rules.disallowed_words = "cheap pills"
    rules.save()
    client.force_login(rosa)
    response = client.post(f"/p/{post.slug}/restack/", {"note": "Buy CHEAP PILLS"})
    assert response.status_code == 400 and "Buy CHEAP PILLS" in response.content.decode()
    assert not Restack.objects.exists()


def test_a_restack_note_with_many_links_waits_for_a_moderator(
    client, rosa, post, milo, django_capture_on_commit_callbacks
) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/restack/", {"note": "See a.com, b.com and c.com"})
    item = Restack.objects.get()
    assert item.note_held
    assert "b.com" in client.get("/@rosa/").content.decode()  # its writer sees it
    client.logout()
    assert "b.com" not in client.get("/@rosa/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.publish_note(milo, item)
    assert "b.com" in client.get("/@rosa/").content.decode()


def test_an_avatar_change_is_refused_while_banned(client, troll) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(buffer, "PNG")
    client.force_login(troll)
    avatar = SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")
    assert client.post("/settings/profile/", {"display_name": "", "bio": "", "avatar": avatar}).status_code == 400
    assert not User.objects.get(pk=troll.pk).avatar
