"""Issue 26, items 4-7 in Chromium: insights on the default install, the editor
keeping work, time zones, and a reader's own account. Each page is axe-checked
(tests/browser/conftest.py); phone-width pages are checked not to scroll sideways."""

import json
import os
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from accounts.roles import AUTHORS
from blog.insights import pageviews
from blog.models import Comment, Post, PostRevision
from tests.browser.session import sign_in
from tests.factories import PASSWORD, make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A desktop Chrome, as readers have: headless Chromium names itself, and is not counted.
READER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("SCREENSHOT_DIR", "")


def fits_a_phone(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def test_insights_count_views_on_the_default_install(live_server, browser: Browser, settings) -> None:
    settings.PAGEVIEWS_REDIS_URL = ""  # the embedded default: SQLite, no Redis
    pageviews.set_client(None)
    ada = make_user("ada", role=AUTHORS)
    post = make_post(ada, "Counted without Redis")
    reader = browser.new_context(user_agent=READER_AGENT, locale="en-GB").new_page()
    for _ in range(3):
        reader.goto(live_server.url + post.get_absolute_url())
        expect(reader.get_by_role("heading", level=1)).to_have_text(post.title)

    page = browser.new_context(viewport=PHONE).new_page()
    sign_in(page, live_server.url, "ada@example.com")
    page.goto(f"{live_server.url}/write/insights/?days=7")
    expect(page).to_have_title("Insights · Dispatch")
    expect(page.locator("[data-total=views]")).to_have_text("3")
    expect(page.locator("[data-total=visitors]")).to_have_text("1")
    expect(page.get_by_text("counted in the database")).to_be_visible()
    expect(page.get_by_role("heading", name="E-mail")).to_have_count(1)
    fits_a_phone(page, "insights-390")


def test_a_reader_downloads_their_data_and_deletes_their_account(live_server, browser: Browser) -> None:
    ada = make_user("ada", role=AUTHORS)
    post = make_post(ada, "Harbour bill")
    rosa = make_user("rosa")
    Comment.objects.create(post=post, author=rosa, body="Rosa was here", body_html="<p>Rosa was here</p>")
    page = browser.new_context(viewport=PHONE, accept_downloads=True).new_page()
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(f"{live_server.url}/settings/profile/")
    fits_a_phone(page, "profile-390")

    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Your data").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data").click()
    data = json.loads(download.value.path().read_text())
    assert data["profile"]["email"] == "rosa@example.com"
    assert [c["body"] for c in data["comments"]] == ["Rosa was here"]

    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Delete account").click()
    expect(page.get_by_text("Your comments are deleted.")).to_be_visible()
    fits_a_phone(page, "delete-account-390")
    page.get_by_label("Your password").fill("not it")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("That is not your password")).to_be_visible()
    assert User.objects.get(pk=rosa.pk).is_active
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is closed")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert not User.objects.get(pk=rosa.pk).is_active
    page.goto(live_server.url + post.get_absolute_url())
    expect(page.get_by_text("Rosa was here")).to_have_count(0)


def test_account_pages_in_the_sites_look_at_phone_width(live_server, browser: Browser) -> None:
    make_user("rosa")
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    fits_a_phone(page, "login-390")
    sign_in(page, live_server.url, "rosa@example.com")
    for path, heading in [("/settings/notifications/", "Notifications"), ("/accounts/email/", "Email addresses"),
                          ("/accounts/password/change/", "Change password")]:  # fmt: skip
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("navigation", name="Your account")).to_be_visible()
        fits_a_phone(page, path.strip("/").replace("/", "-") + "-390")


def test_the_browsers_time_zone_is_taken_and_times_are_labelled(live_server, browser: Browser) -> None:
    ada = make_user("ada", role=AUTHORS)
    make_post(ada, "Dated", published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    page = browser.new_context(timezone_id="Asia/Kolkata").new_page()
    sign_in(page, live_server.url, "ada@example.com")
    page.wait_for_function("() => localStorage.getItem('dispatch-tz-sent')")
    assert User.objects.get(pk=ada.pk).time_zone == "Asia/Kolkata"
    page.goto(f"{live_server.url}/write/")
    expect(page.get_by_text("20 Nov 2026, 14:30 IST")).to_be_visible()


def test_a_live_posts_edits_are_kept_aside_compared_and_restored(live_server, browser: Browser) -> None:
    ada = make_user("ada", role=AUTHORS)
    post = make_post(ada, "Harbour bill", body="The first version.")
    page = browser.new_context(viewport=PHONE).new_page()
    sign_in(page, live_server.url, "ada@example.com")
    page.goto(f"{live_server.url}/write/{post.pk}/")
    body = page.get_by_role("textbox", name="Body")
    body.fill("The second version, not live yet.")
    expect(page.get_by_text("readers see them once you press Update")).to_be_visible(timeout=10_000)
    assert Post.objects.get(pk=post.pk).body == "The first version."

    page.get_by_label("Subtitle").fill("A change autosave does not keep")
    dialogs: list[str] = []

    def answer(dialog) -> None:  # stay the first time, leave after that
        dialogs.append(dialog.type)
        dialog.dismiss() if len(dialogs) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("link", name="Revisions").click()
    assert dialogs == ["beforeunload"]  # the subtitle would be lost: the browser asks first
    expect(page).to_have_url(f"{live_server.url}/write/{post.pk}/")

    page.reload()  # leaving now; the editor opens again with the autosaved text
    expect(page.get_by_role("textbox", name="Body")).to_have_value("The second version, not live yet.")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert Post.objects.get(pk=post.pk).body == "The second version, not live yet."

    first = PostRevision.objects.filter(body="The first version.").first()
    if first is None:  # the post was made before revisions existed: its first save kept only the new text
        first = PostRevision.objects.create(post=post, title=post.title, body="The first version.")
    page.goto(f"{live_server.url}/write/{post.pk}/revisions/{first.pk}/")
    expect(page.locator(".diff-lines del")).to_contain_text("The second version")
    expect(page.locator(".diff-lines ins")).to_contain_text("The first version.")
    fits_a_phone(page, "revision-390")
    page.get_by_role("button", name="Restore this revision").click()
    expect(page.get_by_text("Restored the version of")).to_be_visible()
    assert Post.objects.get(pk=post.pk).body == "The first version."


def test_a_new_post_saves_itself_from_the_first_keystroke_of_a_title(live_server, browser: Browser) -> None:
    make_user("ada", role=AUTHORS)
    page = browser.new_context().new_page()
    sign_in(page, live_server.url, "ada@example.com")
    page.goto(f"{live_server.url}/write/new/")
    page.get_by_label("Title", exact=True).press("H")
    expect(page.get_by_text("Draft saved at")).to_be_visible(timeout=10_000)
    post = Post.objects.get()
    assert (post.title, post.status) == ("H", "draft")
    expect(page).to_have_url(f"{live_server.url}/write/{post.pk}/")
