import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.roles import AUTHORS
from blog.management.commands.seed_demo import ANALYSIS_SLUG
from blog.models import Post
from tests.browser.session import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reader_opens_the_analysis_and_sees_quotes_and_footnotes(live_server, page: Page) -> None:
    call_command("seed_demo", "--force", verbosity=0)
    analysis = Post.objects.get(slug=ANALYSIS_SLUG)

    page.goto(live_server.url)
    page.get_by_role("link", name=analysis.title).first.click()

    expect(page).to_have_url(f"{live_server.url}/p/{ANALYSIS_SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(analysis.title)
    expect(page.locator(".post-body blockquote").first).to_be_visible()
    first_ref = page.locator(".post-body sup a.footnote-ref").first
    expect(first_ref).to_be_visible()
    first_ref.click()
    expect(page.locator(".post-body .footnote li:target")).to_be_visible()


def test_author_previews_publishes_and_finds_the_post(live_server, page: Page) -> None:
    make_user("ruth", role=AUTHORS)
    sign_in(page, live_server.url, "ruth@example.com")
    page.get_by_role("link", name="Write").click()
    page.get_by_role("link", name="New post").click()

    page.get_by_label("Title", exact=True).fill("Why the bridge vote matters")
    body = "> The council voted 7-2.\n\nIt matters because of the budget.[^1]\n\n[^1]: Minutes"
    page.get_by_label("Body", exact=True).fill(body)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview blockquote")).to_contain_text("The council voted 7-2.")
    assert not Post.objects.exists()

    page.get_by_role("button", name="Publish now").click()
    page.get_by_label("Publish and e-mail it to 0 subscribers").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published, and on its way to 0 subscribers.")).to_be_visible()

    page.goto(live_server.url)
    expect(page.get_by_role("link", name="Why the bridge vote matters")).to_be_visible()
    feed = page.request.get(f"{live_server.url}/feed/").text()
    assert "Why the bridge vote matters" in feed
