"""Chromium loads a page's view beacon (blog/views/seen.py): with script it
carries the page's own referrer, without script the <noscript> image counts
the view all the same."""

import fakeredis
import pytest
from playwright.sync_api import Browser

from blog.insights import pageviews
from blog.models import PageViewDay, ReferrerDay
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Headless Chromium names itself HeadlessChrome, which counting leaves out as a bot.
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture
def counted(settings):
    settings.PAGEVIEWS_REDIS_URL, settings.PAGEVIEWS_IN_BACKGROUND = "redis://fake", False
    pageviews.set_client(fakeredis.FakeRedis())
    yield
    pageviews.set_client(None)


@pytest.mark.parametrize("script", [True, False], ids=["with script", "without script"])
def test_opening_a_post_from_the_home_page_counts_one_view(live_server, browser: Browser, counted, script) -> None:
    post = make_post(make_user("ada"), "Counted in the browser")
    context = browser.new_context(user_agent=DESKTOP, java_script_enabled=script, locale="en-GB")
    page = context.new_page()
    page.goto(live_server.url + "/")
    with page.expect_response(lambda response: "/seen.gif" in response.url and "/p/" in response.url):
        page.get_by_role("link", name="Counted in the browser").first.click()
    context.close()
    pageviews.fold()
    assert PageViewDay.objects.get(post=post).views == 1
    assert PageViewDay.objects.get(post=None).views == 1  # the home page it came from
    source = ReferrerDay.objects.get(post=post).source
    assert source == ("site" if script else "direct")  # the referrer only script can pass on
