import pytest
from playwright.sync_api import BrowserContext, Page, expect

from blog.models import Like
from tests.browser.session import sign_in
from tests.factories import PASSWORD, make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def bars(page: Page):
    return page.locator("#engagement-top [data-like-button]"), page.locator("#engagement-bottom [data-like-button]")


def test_top_and_bottom_like_buttons_stay_in_step(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Both ends")
    make_user("rosa")
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + post.get_absolute_url())
    top, bottom = bars(page)

    top.click()
    expect(top.locator("[data-like-count]")).to_have_text("1")
    expect(bottom.locator("[data-like-count]")).to_have_text("1")
    expect(bottom).to_have_attribute("aria-pressed", "true")

    page.reload()
    expect(bars(page)[1]).to_have_attribute("aria-pressed", "true")

    bars(page)[1].click()
    expect(bars(page)[0].locator("[data-like-count]")).to_have_text("0")
    expect(bars(page)[1].locator("[data-like-count]")).to_have_text("0")
    assert not Like.objects.exists()


def test_a_signed_out_reader_likes_signs_in_and_comes_back_liked(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Like me later")
    make_user("rosa")
    page.goto(live_server.url + post.get_absolute_url())
    bars(page)[0].click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=%2Fp%2Flike-me-later%2F%23engagement-top")
    page.get_by_label("Email").fill("rosa@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(f"{live_server.url}/p/like-me-later/#engagement-top")
    expect(bars(page)[0]).to_have_attribute("aria-pressed", "true")
    expect(bars(page)[0].locator("[data-like-count]")).to_have_text("1")


def test_copy_link_puts_the_address_on_the_clipboard(live_server, page: Page, context: BrowserContext) -> None:
    post = make_post(make_user("ada"), "Copy me")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(live_server.url + post.get_absolute_url())
    page.locator("#engagement-top summary").click()
    page.locator("#engagement-top").get_by_role("button", name="Copy link").click()
    expect(page.locator("#engagement-top").get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "http://127.0.0.1:8000/p/copy-me/"


def test_a_restack_with_a_note_shows_on_the_profile(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Worth passing on")
    make_user("rosa")
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + post.get_absolute_url())
    page.locator("#engagement-bottom").get_by_role("link", name="Re-stack").click()
    page.get_by_label("Your note").fill("The **second** half is the argument.")
    page.get_by_role("button", name="Re-stack").click()
    expect(page).to_have_url(f"{live_server.url}/@rosa/")
    feed = page.locator(".restack-feed")
    expect(feed.locator("strong")).to_have_text("second")
    expect(feed.get_by_role("link", name="Worth passing on")).to_be_visible()


def test_a_refused_like_says_why_beside_the_button(live_server, page: Page) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from blog.models import Ban

    post = make_post(make_user("ada"), "Not for trolls")
    troll = make_user("troll")
    Ban.objects.create(user=troll, email=troll.email, reason="harassment", until=timezone.now() + timedelta(days=3))
    sign_in(page, live_server.url, "troll@example.com")
    page.goto(live_server.url + post.get_absolute_url())
    bars(page)[1].click()
    alert = page.locator("#engagement-bottom [role=alert]")
    expect(alert).to_contain_text("You can't take part here until")
    expect(alert).to_contain_text("Harassment")
    expect(bars(page)[1].locator("[data-like-count]")).to_have_text("0")
    assert not Like.objects.exists()
