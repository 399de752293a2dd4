"""A held re-stack note in Chromium at phone width: its writer sees it marked
as waiting on the post's page; another reader does not see it (issue 22, item 6)."""

import os

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.session import sign_in
from tests.factories import make_post, make_user, relax_moderation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_held_note_shows_to_its_writer_only(live_server, page: Page, browser: Browser) -> None:
    relax_moderation(moderation_words="casino")
    post = make_post(make_user("ada"), "Worth passing on")
    make_user("rosa")
    make_user("bo")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(f"{live_server.url}/p/{post.slug}/restack/")
    page.get_by_label("Your note").fill("The casino chapter is the best part.")
    page.get_by_role("button", name="Re-stack").click()
    page.goto(live_server.url + post.get_absolute_url())
    restacks = page.locator("#restacks")
    expect(restacks.get_by_text("The casino chapter is the best part.")).to_be_visible()
    expect(restacks.get_by_text("Awaiting moderation. Only you and the moderators can see this note.")).to_be_visible()
    if os.environ.get("SCREENSHOT_DIR"):
        restacks.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "held-note-390.png"))

    other = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(other, live_server.url, "bo@example.com")
    other.goto(live_server.url + post.get_absolute_url())
    expect(other.locator("#restacks")).to_contain_text("re-stacked")
    expect(other.get_by_text("casino chapter")).to_have_count(0)
    other.close()
