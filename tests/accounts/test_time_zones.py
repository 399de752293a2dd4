"""Each account's time zone: taken from the browser once, changeable, used for every time and schedule."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts import timezones
from accounts.models import User
from blog.models import Comment, Post
from tests.blog.test_desk import form
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

FROM_BROWSER = "/settings/time-zone/from-browser/"


def test_the_browsers_zone_is_taken_on_the_first_visit_only(client, rosa) -> None:
    client.force_login(rosa)
    assert "js/account-timezone.js" in client.get("/").content.decode()
    response = client.post(FROM_BROWSER, {"time_zone": "Asia/Kolkata"})
    assert response.status_code == 200 and response.json()["taken"] is True
    assert client.post(FROM_BROWSER, {"time_zone": "America/Chicago"}).json()["taken"] is False
    assert User.objects.get(pk=rosa.pk).time_zone == "Asia/Kolkata"


def test_a_browsers_old_zone_name_is_stored_under_its_current_name(client, rosa) -> None:
    client.force_login(rosa)
    assert client.post(FROM_BROWSER, {"time_zone": "Asia/Calcutta"}).json()["time_zone"] == "Asia/Kolkata"
    assert User.objects.get(pk=rosa.pk).time_zone == "Asia/Kolkata"


def test_an_unknown_zone_from_the_browser_is_refused(client, rosa) -> None:
    client.force_login(rosa)
    for zone in ["Mars/Olympus", "", "x" * 100]:
        response = client.post(FROM_BROWSER, {"time_zone": zone})
        assert response.status_code == 400 and response.json()["error"] == "Unknown time zone."
    assert User.objects.get(pk=rosa.pk).time_zone == ""


def test_the_browser_endpoint_needs_a_post_from_a_signed_in_reader(client, rosa) -> None:
    assert client.post(FROM_BROWSER, {"time_zone": "Europe/Berlin"}).status_code == 302
    client.force_login(rosa)
    assert client.get(FROM_BROWSER).status_code == 405
    assert User.objects.get(pk=rosa.pk).time_zone == ""


def test_the_zone_is_changed_in_the_profile(client, rosa) -> None:
    client.force_login(rosa)
    assert 'name="time_zone"' in client.get("/settings/profile/").content.decode()
    client.post("/settings/profile/", {"display_name": "", "bio": "", "time_zone": "Europe/Lisbon"})
    assert User.objects.get(pk=rosa.pk).time_zone == "Europe/Lisbon"
    response = client.post("/settings/profile/", {"display_name": "", "bio": "", "time_zone": "Asia/Calcutta"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert User.objects.get(pk=rosa.pk).time_zone == "Europe/Lisbon"


def test_deprecated_zone_names_are_left_out_of_every_list(client, rosa) -> None:
    names = timezones.time_zones()
    assert {"Europe/Kyiv", "Asia/Kolkata", "America/New_York", "Europe/Oslo", "UTC"} <= set(names)
    assert not {"US/Eastern", "Asia/Calcutta", "Europe/Kiev", "GB", "Etc/GMT+5", "EST5EDT"} & set(names)
    client.force_login(rosa)
    page = client.get("/settings/profile/").content.decode()
    assert 'value="Asia/Kolkata"' in page and 'value="Asia/Calcutta"' not in page


def test_times_are_shown_in_the_readers_zone_and_labelled(client, ada) -> None:
    User.objects.filter(pk=ada.pk).update(time_zone="Asia/Kolkata")
    when = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    post = make_post(ada, "Dated", published_at=when)
    Comment.objects.create(post=post, author=ada, body="Hi", body_html="<p>Hi</p>", created_at=when)
    client.force_login(User.objects.get(pk=ada.pk))
    assert "20 Nov 2026, 14:30 IST" in client.get("/write/").content.decode()
    assert "20 Nov 2026, 14:30 IST" in client.get(post.get_absolute_url()).content.decode()
    client.logout()
    assert "20 Nov 2026, 09:00 UTC" in client.get(post.get_absolute_url()).content.decode()  # the site's default


def test_a_schedule_is_read_in_the_authors_zone(client, ada) -> None:
    User.objects.filter(pk=ada.pk).update(time_zone="Europe/Berlin")
    client.force_login(User.objects.get(pk=ada.pk))
    local = (
        (timezone.now() + timedelta(days=3))
        .astimezone(timezones.zone_of("Europe/Berlin"))
        .replace(hour=9, minute=0, second=0, microsecond=0)
    )
    editor = client.get("/write/new/").content.decode()
    assert "In your time zone, Europe/Berlin (CE" in editor  # CET or CEST
    client.post("/write/new/", form(action="schedule", publish_at=local.strftime("%Y-%m-%dT%H:%M")))
    post = Post.objects.get()
    assert post.status == "scheduled" and post.published_at == local
    assert post.published_at.astimezone(UTC).hour in (7, 8)  # 09:00 in Berlin


def test_a_cached_page_never_shows_one_readers_zone_to_another(client, ada, rosa) -> None:
    when = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    post = make_post(ada, "Dated", published_at=when)
    Comment.objects.create(post=post, author=ada, body="Hi", body_html="<p>Hi</p>", created_at=when)
    User.objects.filter(pk=rosa.pk).update(time_zone="Asia/Kolkata")
    tom = make_user("tom", time_zone="America/New_York")
    seen = {}
    for reader in (User.objects.get(pk=rosa.pk), tom, User.objects.get(pk=rosa.pk)):
        client.force_login(reader)
        seen.setdefault(reader.username, []).append(client.get(post.get_absolute_url()).content.decode())
    assert all("20 Nov 2026, 14:30 IST" in page for page in seen["rosa"])
    assert "20 Nov 2026, 04:00 EST" in seen["tom"][0] and "IST" not in seen["tom"][0]
