"""Site settings on the desk (blog/shared/sitesettings.py): what the owner sets shows on
every page, e-mail and feed at once, and bad input changes nothing."""

import io
import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.roles import PUBLISHERS
from blog.models import SiteSettings
from tests.factories import make_post, make_subscribers, make_user, publish

URL = "/write/settings/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def olive(db):
    """The publisher: owns the publication."""
    return make_user("olive", role=PUBLISHERS, display_name="Olive Quayle")


@pytest.fixture
def owner(client, olive) -> Client:
    client.force_login(olive)
    return client


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def form(**changes: object) -> dict[str, object]:
    """The settings form as the owner sends it: everything blank but `changes`."""
    fields = ["name", "description", "accent_color", "sender_name", "reply_to", "about", "footer_text"]
    return {**dict.fromkeys(fields, ""), "nav_text": "", "time_zone": "", **changes}


def png(width: int, height: int, colour: str = "#224466") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def page(path: str = "/") -> str:
    """A signed-out reader's page (served from the page cache when it can be)."""
    response = Client().get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_install_shows_the_environments_name(client) -> None:
    assert "<title>Dispatch</title>" in page()


def test_a_saved_name_shows_on_pages_cached_before_it(owner, commit) -> None:
    page()  # rendered and stored under the old name
    with commit():
        response = owner.post(URL, form(name="The Harbour Ledger", description="Ports and people."))
    assert response.status_code == 302
    home = page()
    assert "<title>The Harbour Ledger</title>" in home
    assert "Ports and people." in home
    assert ">The Harbour Ledger</a>" in home  # the masthead


def test_a_saved_name_and_sender_sign_every_email(owner, settings, commit) -> None:
    settings.DEFAULT_FROM_EMAIL = "Dispatch <news@ledger.example>"
    owner.post(URL, form(name="The Harbour Ledger", sender_name="Olive at the Ledger", reply_to="olive@ledger.example"))
    with commit():
        Client().post("/subscribe/", {"email": "new@example.com", "source": "home"})
    [message] = mail.outbox
    assert message.subject == "Confirm your subscription to The Harbour Ledger"
    assert message.from_email == "Olive at the Ledger <news@ledger.example>"
    assert "The Harbour Ledger" in message.alternatives[0].content


def test_a_newsletter_goes_out_from_the_sender_with_the_reply_to(owner, olive, settings, commit) -> None:
    settings.DEFAULT_FROM_EMAIL = "Dispatch <news@ledger.example>"
    owner.post(URL, form(name="The Harbour Ledger", sender_name="Olive at the Ledger", reply_to="olive@ledger.example"))
    make_subscribers(active=1)
    with commit():
        publish(make_post(olive, "Tides", status="draft"))
    [message] = mail.outbox
    assert message.from_email == "Olive at the Ledger <news@ledger.example>"
    assert message.reply_to == ["olive@ledger.example"]
    assert message.extra_headers["List-Id"].startswith("The Harbour Ledger <newsletter.")
    assert "You receive this because you subscribed to The Harbour Ledger." in message.body


def test_without_a_sender_name_emails_come_from_the_new_name(owner, commit) -> None:
    owner.post(URL, form(name="The Harbour Ledger"))
    with commit():
        Client().post("/subscribe/", {"email": "new@example.com", "source": "home"})
    assert mail.outbox[0].from_email == "The Harbour Ledger <noreply@localhost>"


def test_feeds_and_social_metadata_carry_the_name(owner, olive) -> None:
    owner.post(URL, form(name="The Harbour Ledger", description="Ports and people."))
    post = make_post(olive, "Tides")
    feed = Client().get("/feed/").content.decode()
    assert "<title>The Harbour Ledger</title>" in feed and "<description>Ports and people.</description>" in feed
    assert '<meta property="og:site_name" content="The Harbour Ledger">' in page(post.get_absolute_url())
    assert '"publisher": {"@type": "Organization", "name": "The Harbour Ledger"}' in page(post.get_absolute_url())


def test_a_bad_colour_is_refused_with_the_reason_and_nothing_changes(owner) -> None:
    response = owner.post(URL, form(name="Changed", accent_color="#ffdd00"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "#ffdd00 has a contrast of 1.3:1 against the page background" in text
    assert "at least 4.5:1 (WCAG AA)" in text
    assert "Nothing was saved" in text
    assert not SiteSettings.objects.exclude(name="").exists()
    assert "<title>Dispatch</title>" in page()


def test_a_colour_that_is_not_one_is_refused(owner) -> None:
    response = owner.post(URL, form(accent_color="red"))
    assert response.status_code == 400
    assert "Write the colour as # and six hexadecimal digits" in response.content.decode()


def test_a_readable_colour_restyles_the_site_in_light_and_dark(owner, commit) -> None:
    with commit():
        owner.post(URL, form(accent_color="#1D4F91"))
    home = page()
    [href] = re.findall(r'<link rel="stylesheet" href="(/theme\.css\?v=\w+)">', home)
    css = Client().get(href)
    assert css["Content-Type"].startswith("text/css")
    assert "--accent: #1d4f91;" in css.content.decode()
    dark = re.search(r"prefers-color-scheme: dark\) \{ :root \{ --accent: (#\w{6})", css.content.decode())[1]
    assert dark != "#1d4f91"  # lightened until it reads on the dark page


def test_a_huge_logo_is_refused_and_nothing_changes(owner) -> None:
    response = owner.post(URL, {**form(name="Changed"), "logo": png(8000, 6000)})  # 48 megapixels
    assert response.status_code == 400
    assert "The image may have at most 40 megapixels (this one is 8,000 x 6,000)" in response.content.decode()
    assert not SiteSettings.objects.exclude(name="").exists()


def test_a_logo_over_the_byte_limit_is_refused(owner) -> None:
    noisy = io.BytesIO()
    Image.frombytes("RGB", (700, 700), bytes(range(256)) * (700 * 700 * 3 // 256) + b"\0" * 132).save(noisy, "BMP")
    big = SimpleUploadedFile("logo.png", noisy.getvalue() + b"\0" * 200_000, content_type="image/png")
    response = owner.post(URL, {**form(), "logo": big})
    assert response.status_code == 400
    assert "The logo must be 1 MB or smaller." in response.content.decode()


def test_a_logo_is_drawn_again_and_shown_in_the_masthead(owner, commit) -> None:
    with commit():
        owner.post(URL, {**form(name="Ledger"), "logo": png(2000, 400)})
    row = SiteSettings.objects.get()
    with Image.open(row.logo) as stored:
        assert stored.size == (800, 160)  # scaled to the logo's limit
    assert f'<img class="brand-logo" src="{row.logo.url}" alt="" height="40">Ledger</a>' in page()


def test_a_new_logo_replaces_the_old_file(owner, commit) -> None:
    with commit():
        owner.post(URL, {**form(), "logo": png(300, 100)})
    first = SiteSettings.objects.get().logo
    with commit():
        owner.post(URL, {**form(), "logo": png(300, 100, "#000000")})
    assert SiteSettings.objects.get().logo.name != first.name
    assert not first.storage.exists(first.name)
    with commit():
        owner.post(URL, {**form(), "logo-clear": "on"})
    assert not SiteSettings.objects.get().logo
    assert "brand-logo" not in page()


@pytest.mark.parametrize(
    "link",
    [
        "Pay | javascript:alert(1)",
        "Pay | data:text/html,<script>alert(1)</script>",
        "Pay | //evil.example/",
        "Pay | /\\evil.example/",
        "Pay | ftp://files.example/",
    ],
)
def test_an_unsafe_link_is_refused_and_nothing_changes(owner, link) -> None:
    response = owner.post(URL, form(name="Changed", nav_text=f"About | /about/\n{link}"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Line 2: " in text and "is not a safe address." in text
    assert not SiteSettings.objects.exists() or SiteSettings.objects.get().nav_links == []
    assert "Changed" not in page()


def test_navigation_links_about_page_and_footer_show_on_pages(owner, commit) -> None:
    about = "We cover the **harbour**."
    nav = "About | /about/\nShop | https://shop.example.com/"
    with commit():
        owner.post(URL, form(about=about, nav_text=nav, footer_text="Published from Pier 4."))
    home = page()
    assert '<a href="/about/">About</a>' in home and '<a href="https://shop.example.com/">Shop</a>' in home
    assert "Published from Pier 4." in home
    assert "We cover the <strong>harbour</strong>." in page("/about/")
    assert "About | /about/\nShop | https://shop.example.com/" in owner.get(URL).content.decode()


def test_without_about_text_there_is_no_about_page(client) -> None:
    assert client.get("/about/").status_code == 404


def test_times_are_shown_in_the_default_time_zone(owner, olive, commit) -> None:
    make_post(olive, "Tides", published_at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    assert '<time datetime="2026-07-01T22:30:00+00:00">1 Jul</time>' in page("/archive/")
    with commit():
        owner.post(URL, form(time_zone="Pacific/Auckland"))  # UTC+12 in July
    assert '<time datetime="2026-07-02T10:30:00+12:00">2 Jul</time>' in page("/archive/")


def test_an_unknown_time_zone_is_refused(owner) -> None:
    response = owner.post(URL, form(time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_favicon_answers_with_the_default_then_the_configured_one(owner, commit) -> None:
    default = Client().get("/favicon.ico")
    assert default.status_code == 200 and default["Content-Type"] == "image/png"
    with commit():
        owner.post(URL, {**form(), "favicon": png(512, 512, "#00aa00")})
    configured = Client().get("/favicon.ico")
    assert configured.status_code == 200 and configured.content != default.content
    with Image.open(io.BytesIO(configured.content)) as icon:
        assert icon.size == (256, 256)
    assert '<link rel="icon" href="/favicon.ico?v=' in page()


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.post(URL, form(name="Hijacked"))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not SiteSettings.objects.exists()


def test_an_author_without_the_role_gets_the_sites_403_saying_who_can(client, ada) -> None:
    client.force_login(ada)
    response = client.post(URL, form(name="Hijacked"))
    assert response.status_code == 403
    text = response.content.decode()
    assert "Only the publisher can do this. Ask the publisher if you need it." in text
    assert '<link rel="stylesheet" href="/static/css/site.css">' in text  # the site's own page
    assert not SiteSettings.objects.exists()


def test_other_methods_are_refused(owner) -> None:
    assert owner.put(URL).status_code == 405
    assert owner.delete(URL).status_code == 405
