import pytest
from playwright.sync_api import Browser, expect

from blog.discussion.commentpages import PAGE_COMMENTS
from blog.models import Comment
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_more_comments_and_a_permalink_on_a_later_page_work_without_javascript(live_server, browser: Browser) -> None:
    post = make_post(make_user("ada"), "A long argument")
    rosa = make_user("rosa")
    tops = [
        Comment.objects.create(post=post, author=rosa, body="x", body_html=f"<p>Thread number {i}</p>")
        for i in range(120)
    ]
    reply = Comment.objects.create(post=post, author=rosa, body="x", body_html="<p>A late reply</p>",
                                   parent=tops[110], reply_to=tops[110], level=2)  # fmt: skip
    page = browser.new_context(java_script_enabled=False).new_page()

    page.goto(live_server.url + post.get_absolute_url())
    last, next_first = f"Thread number {PAGE_COMMENTS - 1}", f"Thread number {PAGE_COMMENTS}"
    expect(page.get_by_text(last, exact=True)).to_be_visible()
    expect(page.get_by_text(next_first, exact=True)).to_have_count(0)
    page.get_by_role("link", name="More comments").click()
    expect(page.get_by_text(next_first, exact=True)).to_be_visible()
    expect(page.get_by_text("Thread number 0", exact=True)).to_have_count(0)

    page.goto(live_server.url + reply.anchor_url)
    expect(page.locator(f"#comment-{reply.pk}")).to_be_in_viewport()
    expect(page.locator(f"#comment-{reply.pk}")).to_contain_text("A late reply")
