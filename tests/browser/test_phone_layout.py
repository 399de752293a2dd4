"""The post page on a 390 px phone: a short masthead, tight headings and
touch targets of at least 24 by 24 px (WCAG 2.2, 2.5.8) where controls sit
close together (issue 26, item 8)."""

import pytest
from playwright.sync_api import Page

from tests.browser.session import sign_in
from tests.factories import comment_as, make_post, make_user, relax_moderation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Controls packed in rows or grids; links inside running text are exempt from 2.5.8.
CROWDED = ".masthead nav a, .share-networks a, .comment-actions a, .comment-actions button, .comment-sort a, .tags a"
TOO_SMALL = """(selector) => Array.from(document.querySelectorAll(selector))
  .map((e) => [e.textContent.trim(), e.getBoundingClientRect()])
  .filter(([, r]) => r.width > 0 && (r.height < 24 || r.width < 24))
  .map(([text, r]) => `${text} ${Math.round(r.width)}x${Math.round(r.height)}`)"""


@pytest.fixture
def discussed(db):
    relax_moderation()
    ada = make_user("ada")
    post = make_post(ada, "A title long enough to wrap over two or three lines on a phone", tags="Ports")
    comment_as(make_user("rosa"), post, "A first remark.")
    comment_as(make_user("jonah"), post, "A second remark.")
    return post


def test_the_phone_masthead_is_short_and_still_offers_search(live_server, page: Page, discussed) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + discussed.get_absolute_url())
    assert page.locator(".masthead").bounding_box()["height"] <= 80
    page.locator(".masthead").get_by_role("link", name="Search").click()
    assert page.url == f"{live_server.url}/search/"


def test_wrapped_titles_are_set_tight(live_server, page: Page, discussed) -> None:
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + discussed.get_absolute_url())
    title = page.locator("h1")
    size = float(title.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)"))
    line = float(title.evaluate("(e) => parseFloat(getComputedStyle(e).lineHeight)"))
    assert title.bounding_box()["height"] > 2 * line - 1  # it does wrap
    assert line <= 1.25 * size


def test_crowded_controls_are_at_least_24_px_on_a_phone(live_server, page: Page, discussed) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + discussed.get_absolute_url())
    page.locator("#engagement-top summary").click()
    assert page.evaluate(TOO_SMALL, CROWDED) == []
