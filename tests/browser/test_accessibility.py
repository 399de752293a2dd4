"""Every page, signed out and signed in, through axe-core (tests/browser/conftest.py
fails a test on any serious or critical violation); and the keyboard-only paths."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from accounts.roles import MODERATORS
from blog.discussion import notifications
from blog.models import Comment, Digest, ModerationLog, ModerationSettings, NewsletterSettings, Send, Subscriber
from blog.newsletter import emails, subscriptions
from tests.browser.conftest import WCAG_ONLY
from tests.browser.session import sign_in
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(db) -> dict:
    ModerationSettings.objects.update_or_create(pk=1, defaults={"min_seconds_to_submit": 0})
    ada = make_user("ada", display_name="Ada Whitlock")
    ada.groups.add(Group.objects.get(name="Authors"), Group.objects.get(name=MODERATORS))
    rosa, bo = make_user("rosa"), make_user("bo")
    body = (
        "The council met on Tuesday.[^1]\n\n> The harbour is the town's front door.\n\n"
        "## What changed\n\nMore than the vote suggests.\n\n[^1]: Minutes of the harbour committee."
    )
    post = make_post(ada, "The harbour vote", subtitle="What the council decided", body=body)
    post.tags.add("harbour", "council")
    root = Comment.objects.create(post=post, author=rosa, body="First!", body_html="<p>First point.</p>")
    reply = Comment.objects.create(
        post=post, author=bo, body="Reply", body_html="<p>A reply.</p>", parent=root, reply_to=root, level=2
    )
    Comment.objects.create(
        post=post, author=rosa, body="Deeper", body_html="<p>Deeper.</p>", parent=reply, reply_to=reply, level=3
    )
    held = Comment.objects.create(
        post=post, author=bo, body="Held for review", body_html="<p>Held for review.</p>", status="held"
    )
    ModerationLog.objects.create(moderator=ada, subject=bo, comment=held, action="hold", reason="test")
    Send.objects.create(post=post, status=Send.Status.DONE)
    pending = Subscriber.objects.create(email="new@example.com")
    active = Subscriber.objects.create(email="old@example.com", status="active", confirmed_at=timezone.now())
    return {
        "post": post,
        "held": held,
        "confirm": subscriptions.confirm_token(pending),
        "manage": subscriptions.manage_token(active),
    }


def visit_all(page: Page, base: str, paths: list[str], axe_audit) -> None:
    for path in paths:
        page.goto(base + path)
        axe_audit.wait_for(page)


def test_every_reader_page_passes_axe_signed_out(live_server, page: Page, site: dict, axe_audit) -> None:
    post = site["post"]
    paths = [
        "/", post.get_absolute_url(), "/t/harbour/", "/@ada/", "/archive/", "/search/", "/search/?q=harbour",
        "/search/?q=%22", "/accounts/signup/", "/accounts/login/", "/subscribe/check-your-email/",
        f"/subscribe/confirm/{site['confirm']}/", f"/subscription/{site['manage']}/",
    ]  # fmt: skip
    visit_all(page, live_server.url, paths, axe_audit)

    page.goto(live_server.url + post.get_absolute_url())
    page.locator("#engagement-top summary").click()
    axe_audit.check(page, "share menu open")

    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_role("button", name="Sign Up").click()
    axe_audit.wait_for(page)
    axe_audit.check(page, "form errors")

    page.goto(live_server.url + "/")
    page.locator(".subscribe-form input[type=email]").first.fill("reader@example")
    page.locator(".subscribe-form button").first.click()
    expect(page.get_by_role("heading", name="Subscribe")).to_be_visible()
    expect(page.locator("#id_email")).to_have_attribute("aria-invalid", "true")
    axe_audit.wait_for(page)  # the subscribe form, with its error


def test_every_page_passes_axe_signed_in(live_server, page: Page, site: dict, axe_audit) -> None:
    post = site["post"]
    sign_in(page, live_server.url, "ada@example.com")
    paths = [
        "/", post.get_absolute_url(), "/t/harbour/", "/@ada/", "/archive/", "/search/?q=council", "/write/",
        "/write/?q=harbour", "/write/new/", f"/write/{post.pk}/", f"/write/{post.pk}/send/", "/moderation/",
        "/moderation/?q=review", "/moderation/log/", "/settings/subscription/", "/settings/profile/",
    ]  # fmt: skip
    visit_all(page, live_server.url, paths, axe_audit)

    page.goto(live_server.url + post.get_absolute_url())
    page.locator("#engagement-top summary").click()
    axe_audit.check(page, "share menu open, signed in")

    page.goto(f"{live_server.url}/write/new/")
    page.get_by_role("button", name="Save draft").click()
    axe_audit.wait_for(page)
    axe_audit.check(page, "editor with errors")


def test_a_keyboard_reader_skips_likes_shares_and_replies(
    live_server, page: Page, context: BrowserContext, site: dict
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    post = site["post"]
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + post.get_absolute_url())

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the article")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".post-body")).to_be_focused()

    like = page.locator("#engagement-top [data-like-button]")
    tab_until(page, like)
    expect(like).to_have_attribute("aria-label", "Like, 0 likes")
    page.keyboard.press("Enter")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_attribute("aria-label", "Like, 1 like")

    share = page.locator("#engagement-top summary")
    page.keyboard.press("Tab")
    expect(share).to_be_focused()
    page.keyboard.press("Enter")
    copy = page.locator("#engagement-top [data-copy-link]")
    tab_until(page, copy)
    page.keyboard.press("Enter")
    expect(copy).to_have_text("Copied!")
    assert post.get_absolute_url() in page.evaluate("navigator.clipboard.readText()")
    page.keyboard.press("Escape")

    reply_link = page.locator(".comment", has_text="First point.").get_by_role("link", name="Reply").first
    tab_until(page, reply_link)
    page.keyboard.press("Enter")
    box = page.get_by_label("Your reply")
    expect(box).to_be_focused()
    page.keyboard.type("Agreed, and the minutes say so.")
    tab_until(page, page.get_by_role("button", name="Post reply"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Agreed, and the minutes say so.")).to_be_visible()


def test_a_moderator_approves_a_held_comment_from_the_keyboard(live_server, page: Page, site: dict) -> None:
    sign_in(page, live_server.url, "ada@example.com")
    page.goto(f"{live_server.url}/moderation/")
    expect(page.locator("[data-queue-item].is-current")).to_contain_text("Held for review")
    page.keyboard.press("x")
    expect(page.locator("[data-queue-item].is-current input[type=checkbox]")).to_be_checked()
    page.keyboard.press("1")
    expect(page.get_by_text("Approve: 1 comment.")).to_be_visible()
    site["held"].refresh_from_db()
    assert site["held"].status == Comment.Status.APPROVED


def tab_until(page: Page, target, limit: int = 60) -> None:
    """Press Tab until `target` has focus; every stop on the way must show a focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_VISIBLE), "focus moved to an element without a visible outline"
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} never took focus within {limit} tabs")


# The focused element draws an outline (the site's :focus-visible ring) or is the body (between stops).
FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return true;
  const style = getComputedStyle(el);
  return el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
}"""


def test_pages_pass_axe_in_the_dark_colour_scheme(live_server, page: Page, site: dict, axe_audit) -> None:
    page.emulate_media(color_scheme="dark", reduced_motion="reduce")
    visit_all(page, live_server.url, ["/", site["post"].get_absolute_url(), "/search/?q=harbour"], axe_audit)
    sign_in(page, live_server.url, "ada@example.com")
    visit_all(page, live_server.url, ["/write/", "/moderation/"], axe_audit)


def test_emails_pass_axe_contrast_and_structure(page: Page, site: dict, axe_audit) -> None:
    subscriber = Subscriber.objects.get(email="old@example.com")
    post, ada = site["post"], site["post"].author
    digest = Digest.objects.create(subscriber=subscriber, period="weekly:2026-W48")
    digest.posts.add(post)
    reply = Comment.objects.get(body="Reply")
    moderation_context = {"comments": [site["held"]], "queue_url": "http://testserver/moderation/"}
    messages = {
        "post e-mail": emails.newsletter_message(emails.render_post(post), subscriber, "<a@example.com>", post),
        "digest e-mail": emails.newsletter_message(emails.render_digest(digest), subscriber, "<b@example.com>"),
        "confirmation e-mail": emails.confirmation_message(Subscriber.objects.get(email="new@example.com")),
        "welcome e-mail": emails.welcome_message(subscriber, NewsletterSettings.load()),
        "reply e-mail": notifications.comment_message(notifications.Kind.REPLIES, reply, reply.reply_to.author),
        "moderation e-mail": notifications.notification_message(
            ada, notifications.Kind.MODERATION, "moderation-digest", moderation_context
        ),
    }
    for scheme, paper in (("light", "rgb(255, 253, 248)"), ("dark", "rgb(23, 23, 22)")):
        page.emulate_media(color_scheme=scheme)
        for name, message in messages.items():
            assert message is not None, name
            [(html, _mimetype)] = message.alternatives
            page.set_content(html)
            expect(page.locator(".wrap")).to_have_css("background-color", paper)  # the reader's colour scheme
            axe_audit.check(page, f"{name}, {scheme}", WCAG_ONLY)  # contrast above all
    assert len([url for url in axe_audit.checked if "e-mail" in url]) == 2 * len(messages)


def test_the_audit_fails_on_a_new_violation(page: Page, axe_audit) -> None:
    page.set_content('<html lang="en"><title>t</title><main><h1>Hi</h1><p style="color:#ccc">Faint</p></main></html>')
    axe_audit.check(page, "faint text", WCAG_ONLY)
    assert any("color-contrast" in finding for finding in axe_audit.findings)
    axe_audit.findings.clear()  # seen; the test itself passes
