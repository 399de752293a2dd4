import time

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.roles import MODERATORS
from blog.models import Comment, ModerationSettings
from tests.browser.session import sign_in
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_held_first_comment_approved_then_replied_to_with_a_notification(
    live_server, celery_worker_process, smtp_sink, page: Page, browser: Browser
) -> None:
    ModerationSettings.objects.update_or_create(pk=1, defaults={"min_seconds_to_submit": 0})
    post = make_post(make_user("ada"), "Open to debate")
    make_user("rosa")
    make_user("milo", role=MODERATORS)
    bo = make_user("bo")
    Comment.objects.create(post=post, author=bo, body="Earlier", body_html="<p>Earlier</p>")  # bo is known

    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + post.get_absolute_url())
    page.get_by_label("Join the discussion").fill("The second table is *misleading*.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Awaiting moderation. Only you can see it")).to_be_visible()

    moderator = browser.new_context().new_page()
    sign_in(moderator, live_server.url, "milo@example.com")
    moderator.goto(f"{live_server.url}/moderation/")
    item = moderator.locator("[data-queue-item]", has_text="The second table is")
    item.get_by_label("Select").check()
    moderator.get_by_role("button", name="Approve").click()
    expect(moderator.get_by_text("Approve: 1 comment.")).to_be_visible()

    other = browser.new_context().new_page()
    sign_in(other, live_server.url, "bo@example.com")
    other.goto(live_server.url + post.get_absolute_url())
    rosa_comment = other.locator(".comment", has_text="The second table is")
    expect(rosa_comment.locator("em")).to_have_text("misleading")
    rosa_comment.get_by_role("link", name="Reply").click()
    other.get_by_label("Your reply").fill("It is labelled in the footnote.")
    other.get_by_role("button", name="Post reply").click()
    expect(other.get_by_text("It is labelled in the footnote.")).to_be_visible()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not smtp_sink.to("rosa@example.com"):
        time.sleep(0.2)
    [notice] = smtp_sink.to("rosa@example.com")
    assert notice["Subject"] == "bo replied to you on “Open to debate”"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
