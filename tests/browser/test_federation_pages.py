"""The fediverse pages a reader and a moderator use, at phone width, checked by axe."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import MODERATORS
from blog.models import BlockedInstance, Following, ReceivedArticle, RemoteActor
from tests.browser.session import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_sees_posts_from_a_followed_publication_at_phone_width(live_server, page: Page, tmp_path) -> None:
    rosa = make_user("rosa")
    stand_in = make_user("fedi-gazette")
    remote = RemoteActor.objects.create(
        uri="https://gazette.example/ap/publication", key_id="https://gazette.example/ap/publication#main-key",
        public_key_pem="-", inbox="https://gazette.example/inbox", domain="gazette.example",
        preferred_username="publication", name="The Gazette", user=stand_in, fetched_at=timezone.now(),
    )  # fmt: skip
    Following.objects.create(user=rosa, remote=remote, follow_uri="http://127.0.0.1:8000/ap/activities/1",
                             accepted_at=timezone.now())  # fmt: skip
    ReceivedArticle.objects.create(
        remote=remote, uri="https://gazette.example/ap/articles/1", url="https://gazette.example/p/harbour/",
        name="A very long headline about the harbour that must wrap on a small screen without overflowing",
        summary="Boats came in.", content_html="<p>Boats came in at dawn.</p>", published=timezone.now(),
    )  # fmt: skip
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + "/fediverse/")
    expect(page.get_by_role("heading", name="Following on the fediverse")).to_be_visible()
    expect(page.get_by_text("Boats came in at dawn.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "fediverse-390.png"), full_page=True)


def test_a_moderator_blocks_a_server_at_phone_width(live_server, page: Page) -> None:
    make_user("milo", role=MODERATORS)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "milo@example.com")
    page.goto(live_server.url + "/moderation/instances/")
    page.get_by_label("Server").fill("spam.example")
    page.get_by_label("Reason (for the moderators)").fill("a spam wave")
    page.get_by_role("button", name="Block this server").click()
    expect(page.get_by_text("spam.example is blocked.")).to_be_visible()
    assert BlockedInstance.objects.filter(domain="spam.example").exists()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
