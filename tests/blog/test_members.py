"""Members (blog/newsletter/members.py): find a subscriber, open one, note, label, unsubscribe, erase."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import PUBLISHERS
from blog.models import Delivery, Like, Send, Subscriber
from blog.newsletter import members
from blog.newsletter.subscriptions import audience_growth
from tests.factories import comment_as, make_post, make_user, relax_moderation

LIST = "/write/members/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def olive(db):
    return make_user("olive", role=PUBLISHERS)


@pytest.fixture
def owner(client, olive):
    client.force_login(olive)
    return client


def member(email: str, days_ago: int = 0, **fields: object) -> Subscriber:
    made = Subscriber.objects.create(email=email, status=fields.pop("status", "active"), **fields)
    Subscriber.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    made.refresh_from_db()
    return made


def listed(response) -> list[str]:
    return re.findall(r'<a href="/write/members/\d+/">([^<]+)</a>', response.content.decode())


@pytest.fixture
def crowd(db) -> dict[str, Subscriber]:
    return {
        "ann": member("ann@harbour.example", 1, source="post-top:tides", frequency="post"),
        "ben": member("ben@example.com", 5, status="unsubscribed", source="import:olive"),
        "cat": member("cat@harbour.example", 40, frequency="weekly", source="profile:olive", label="press"),
        "dan": member("dan@example.com", 2, status="pending", frequency="daily"),
    }


def test_members_are_listed_newest_first(owner, crowd) -> None:
    assert listed(owner.get(LIST)) == ["ann@harbour.example", "dan@example.com", "ben@example.com",
                                      "cat@harbour.example"]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "HARBOUR"}, ["ann@harbour.example", "cat@harbour.example"]),
        ({"q": "ben@example.com"}, ["ben@example.com"]),
        ({"status": "unsubscribed"}, ["ben@example.com"]),
        ({"cadence": "weekly"}, ["cat@harbour.example"]),
        ({"source": "import"}, ["ben@example.com"]),
        ({"label": "press"}, ["cat@harbour.example"]),
        ({"q": "harbour", "cadence": "post"}, ["ann@harbour.example"]),
        ({"q": "nobody"}, []),
    ],
)
def test_search_and_filters_find_the_right_members(owner, crowd, query, expected) -> None:
    response = owner.get(LIST, query)
    assert response.status_code == 200
    assert listed(response) == expected
    if not expected:
        assert "No member matches these filters." in response.content.decode()


def test_a_whole_address_finds_that_member_only(owner, crowd) -> None:
    member("joann@harbour.example")
    assert listed(owner.get(LIST, {"q": "Ann@Harbour.example"})) == ["ann@harbour.example"]
    assert listed(owner.get(LIST, {"q": "ann@harbour"})) == ["joann@harbour.example", "ann@harbour.example"]


def test_the_date_filter_takes_whole_days(owner, crowd) -> None:
    today = timezone.localdate()
    query = {"joined_from": str(today - timedelta(days=6)), "joined_to": str(today - timedelta(days=2))}
    assert listed(owner.get(LIST, query)) == ["dan@example.com", "ben@example.com"]


def test_a_date_range_backwards_is_refused_with_a_message(owner, crowd) -> None:
    response = owner.get(LIST, {"joined_from": "2026-05-02", "joined_to": "2026-05-01"})
    assert response.status_code == 400
    assert "“Joined from” must be on or before “Joined until”." in response.content.decode()


def test_keyset_pages_show_every_member_once(owner, monkeypatch) -> None:
    monkeypatch.setattr(members, "PAGE_SIZE", 3)
    made = [member(f"m{i}@example.com") for i in range(8)]  # the same second: the id breaks ties
    Subscriber.objects.update(created_at=timezone.now())
    seen, url, pages = [], LIST + "?status=active", 0
    while url:
        response = owner.get(url)
        seen += listed(response)
        pages += 1
        nxt = re.search(r'href="\?([^"]+)" rel="next"', response.content.decode())
        url = LIST + "?" + nxt[1].replace("&amp;", "&") if nxt else ""
    assert pages == 3
    assert seen == [m.email for m in reversed(made)]


def test_a_broken_cursor_shows_the_first_page(owner, crowd) -> None:
    assert listed(owner.get(LIST, {"after": "not-a-cursor_x"}))[0] == "ann@harbour.example"


def test_one_member_shows_consent_deliveries_likes_and_comments(owner, olive, rosa) -> None:
    relax_moderation()
    post = make_post(olive, "Tides")
    cat = member("rosa@example.com", source="post-top:tides", consent_ip="192.0.2.7", user=rosa)
    Subscriber.objects.filter(pk=cat.pk).update(confirmed_at=timezone.now(), confirmed_ip="192.0.2.8")
    Delivery.objects.create(send=Send.objects.create(post=post), subscriber=cat, status="sent", sent_at=timezone.now())
    Like.objects.create(post=post, subscriber=cat)
    comment_as(rosa, post, "Well argued.")
    page = owner.get(f"/write/members/{cat.pk}/").content.decode()
    assert "post-top:tides" in page and "from 192.0.2.7" in page and "from 192.0.2.8" in page
    assert "<td>Tides</td>" in page and "<td>Sent</td>" in page
    assert 'Likes from e-mail</h2>\n  <ul><li><a href="/p/' in page
    assert "Comments by @rosa" in page and "On “Tides”" in page


def test_a_note_and_label_are_saved_and_filterable(owner, crowd) -> None:
    ann = crowd["ann"]
    response = owner.post(f"/write/members/{ann.pk}/note/", {"note": "Met at the pier.", "label": "founding"})
    assert response.status_code == 302
    ann.refresh_from_db()
    assert (ann.note, ann.label) == ("Met at the pier.", "founding")
    assert listed(owner.get(LIST, {"label": "founding"})) == ["ann@harbour.example"]


def test_a_label_too_long_is_refused_and_nothing_saved(owner, crowd) -> None:
    ann = crowd["ann"]
    response = owner.post(f"/write/members/{ann.pk}/note/", {"note": "kept?", "label": "x" * 41})
    assert response.status_code == 400
    assert "Ensure this value has at most 40 characters" in response.content.decode()
    ann.refresh_from_db()
    assert (ann.note, ann.label) == ("", "")


def test_unsubscribing_a_member_stops_their_email(owner, crowd) -> None:
    ann = crowd["ann"]
    assert owner.post(f"/write/members/{ann.pk}/unsubscribe/").status_code == 302
    ann.refresh_from_db()
    assert ann.status == Subscriber.Status.UNSUBSCRIBED and ann.unsubscribed_at


def test_erasing_asks_first_then_forgets_the_person_but_keeps_the_counts(owner, olive, rosa, crowd) -> None:
    post = make_post(olive, "Tides")
    ann = crowd["ann"]
    Subscriber.objects.filter(pk=ann.pk).update(user=rosa, consent_ip="192.0.2.7", note="call back")
    Like.objects.create(post=post, subscriber=ann)
    Delivery.objects.create(send=Send.objects.create(post=post), subscriber=ann, status="failed",
                            error="550 ann@harbour.example: no such user")  # fmt: skip
    assert "Erase this member?" in owner.get(f"/write/members/{ann.pk}/erase/").content.decode()
    assert Subscriber.objects.get(pk=ann.pk).email == "ann@harbour.example"  # asking changes nothing
    left_before = audience_growth()["left_30_days"]
    response = owner.post(f"/write/members/{ann.pk}/erase/")
    assert response.status_code == 302
    erased = Subscriber.objects.get(pk=ann.pk)
    assert erased.email == f"erased-{ann.pk}@erased.invalid"
    assert (erased.user, erased.consent_ip, erased.note, erased.status) == (None, None, "", "unsubscribed")
    assert Like.objects.filter(post=post).count() == 1  # the like still counts, anonymous
    assert Delivery.objects.get(subscriber=ann).error == ""
    assert audience_growth()["left_30_days"] == left_before + 1
    assert "ann@harbour.example" not in owner.get(LIST).content.decode()
    assert owner.get(f"/write/members/{ann.pk}/").status_code == 404


@pytest.mark.parametrize("action", ["note", "unsubscribe"])
def test_actions_refuse_get(owner, crowd, action) -> None:
    assert owner.get(f"/write/members/{crowd['ann'].pk}/{action}/").status_code == 405
    assert Subscriber.objects.get(pk=crowd["ann"].pk).status == "active"


@pytest.mark.parametrize("path", ["", "{pk}/", "{pk}/note/", "{pk}/unsubscribe/", "{pk}/erase/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, crowd, path) -> None:
    response = client.post(LIST + path.format(pk=crowd["ann"].pk), {"note": "x", "label": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert Subscriber.objects.get(pk=crowd["ann"].pk).status == "active"


@pytest.mark.parametrize("path", ["", "{pk}/", "{pk}/note/", "{pk}/unsubscribe/", "{pk}/erase/"])
def test_an_author_cannot_see_or_change_members(client, ada, crowd, path) -> None:
    client.force_login(ada)
    response = client.post(LIST + path.format(pk=crowd["ann"].pk), {"note": "x", "label": "x"})
    assert response.status_code == 403
    assert "Only the publisher can do this." in response.content.decode()
    ann = Subscriber.objects.get(pk=crowd["ann"].pk)
    assert (ann.status, ann.note, ann.email) == ("active", "", "ann@harbour.example")
