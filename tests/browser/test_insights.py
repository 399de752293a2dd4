from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from blog.management.commands.seed_demo import ANALYSIS_SLUG, PASSWORD
from blog.models import PageViewDay, Post, ReferrerDay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("author@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


@pytest.fixture
def seeded(db) -> Post:
    call_command("seed_demo", "--force", verbosity=0)
    analysis = Post.objects.get(slug=ANALYSIS_SLUG)
    # The figures this test looks for, on top of the seeded month.
    ReferrerDay.objects.create(post=analysis, day=timezone.localdate(), source="harbour-watch.example", views=321)
    return analysis


def test_an_author_opens_the_overview_and_a_posts_page(live_server, page: Page, seeded: Post) -> None:
    today = timezone.localdate()
    # The demo author is the publisher, who sees the views of every page (the home page's too).
    week = PageViewDay.objects.filter(day__gt=today - timedelta(days=7))
    expected_views = week.aggregate(n=Sum("views"))["n"]
    analysis_views = PageViewDay.objects.filter(post=seeded).aggregate(n=Sum("views"))["n"]

    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/write/")
    page.get_by_role("link", name="Insights", exact=True).click()
    page.get_by_role("link", name="7 days").click()
    expect(page.locator("[data-total=views]")).to_have_text(str(expected_views))
    expect(page.get_by_role("img", name="Views and unique visitors per day")).to_be_visible()
    referrers = page.get_by_role("table", name="Top referrers")
    expect(referrers.get_by_role("row", name="harbour-watch.example 321")).to_be_visible()

    page.get_by_role("table", name="Top posts by views").get_by_role("link", name=seeded.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.title)
    responses = page.get_by_role("table", name="Readers' responses")
    expect(responses.get_by_role("row", name=f"Views {analysis_views}")).to_be_visible()
    expect(page.get_by_role("table", name="Newsletter clicks per link").get_by_role("row")).to_have_count(4)

    with page.expect_download() as download:
        page.get_by_role("table", name="Referrers").get_by_role("link", name="CSV").click()
    assert "harbour-watch.example,321" in download.value.path().read_text()


def test_charts_and_tables_work_with_javascript_off(live_server, browser: Browser, seeded: Post) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/write/{seeded.pk}/insights/")
    chart = page.get_by_role("img", name="Views and unique visitors per day since publication")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 100
    page.get_by_text("The numbers, day by day").click()
    expect(page.get_by_role("table", name="Views and unique visitors per day since publication")).to_be_visible()
    assert not [error for error in errors if "Content Security Policy" in error]
    context.close()
