"""The insights overview as a page: its title, its sections, and what it says about counting."""

import re

import pytest

from blog.insights import pageviews
from tests.blog.test_pageviews import visit
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_redis(settings) -> None:
    settings.PAGEVIEWS_REDIS_URL = ""
    pageviews.set_client(None)


def test_the_tab_title_is_plain_text_and_the_email_table_shows_once(client, ada) -> None:
    client.force_login(ada)
    html = client.get("/write/insights/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.strip() == "Insights · Dispatch"
    assert html.count("<h2>E-mail</h2>") == 1
    assert '<main id="main" class="page wide">' in html


def test_the_page_says_plainly_when_counting_is_off(client, settings, ada) -> None:
    client.force_login(ada)
    assert "not being counted" not in client.get("/write/insights/").content.decode()
    settings.PAGEVIEWS_ENABLED = False
    assert "Page views are not being counted" in client.get("/write/insights/").content.decode()


def test_views_counted_on_the_default_install_show_on_the_page(client, ada) -> None:
    post = make_post(ada, "Counted on SQLite")
    for ip in ["203.0.113.5", "203.0.113.6", "203.0.113.6"]:
        visit(client, post.get_absolute_url(), ip)
    client.force_login(ada)
    html = client.get("/write/insights/").content.decode()
    assert re.search(r'data-total="views">3<', html)
    assert re.search(r'data-total="visitors">2<', html)
