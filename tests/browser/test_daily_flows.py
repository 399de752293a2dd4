"""Issue 13 in Chromium: what readers, authors and moderators click."""

import base64
import io
import re

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from accounts.roles import AUTHORS, MODERATORS
from blog.models import Comment, Like, Post, PostImage, Share, Subscriber
from blog.newsletter.subscriptions import manage_token
from tests.browser.session import sign_in
from tests.factories import PASSWORD, make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# --- Bugs 1 and 2: hidden is hidden; the share panel fits a phone ---------------


def test_hidden_buttons_stay_hidden_and_unreachable(live_server, browser: Browser) -> None:
    post = make_post(make_user("ada"), "Quiet buttons")
    make_user("rosa")
    page = browser.new_context().new_page()
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + post.get_absolute_url())
    expect(page.locator("#comment-form [data-cancel-reply]")).to_be_hidden()

    no_js = browser.new_context(java_script_enabled=False).new_page()
    no_js.goto(live_server.url + post.get_absolute_url())
    no_js.locator("#engagement-top summary").click()
    expect(no_js.locator("#engagement-top [data-share-url]")).to_be_visible()
    expect(no_js.locator("#engagement-top [data-copy-link]")).to_be_hidden()
    expect(no_js.locator("#engagement-top [data-native-share]")).to_be_hidden()


def test_the_share_panel_fits_a_390px_phone(live_server, browser: Browser) -> None:
    post = make_post(make_user("ada"), "Shared from a phone")
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(live_server.url + post.get_absolute_url())
    page.locator("#engagement-top summary").click()
    field = page.locator("#engagement-top [data-share-url]")
    expect(field).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = field.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_dark_mode_follows_the_system(live_server, browser: Browser) -> None:
    post = make_post(make_user("ada"), "At night")
    background = "getComputedStyle(document.body).backgroundColor"
    light = browser.new_context(color_scheme="light").new_page()
    light.goto(live_server.url + post.get_absolute_url())
    dark = browser.new_context(color_scheme="dark").new_page()
    dark.goto(live_server.url + post.get_absolute_url())
    assert light.evaluate(background) == "rgb(255, 253, 248)"
    assert dark.evaluate(background) == "rgb(23, 23, 22)"


# --- Bug 6: liked while signed out, signed up, verified, back on the post ---------


def test_a_like_survives_sign_up_and_verification(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Liked by a newcomer")
    page.goto(live_server.url + post.get_absolute_url())
    page.locator("#engagement-top [data-like-button]").click()
    expect(page.get_by_text("Sign in to like “Liked by a newcomer”")).to_be_visible()
    page.locator("main").get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Username").fill("grace")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    link = re.search(r"http://[^/]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(live_server.url + link)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{live_server.url}/p/{post.slug}/#engagement-top")
    expect(page.locator("#engagement-top [data-like-button]")).to_have_attribute("aria-pressed", "true")
    assert Like.objects.filter(post=post, user__username="grace").exists()


# --- Readers: time zone, Mastodon, tags, re-stacks ---------------------------------

# The reader's Mastodon server, stood in for (every page a test visits is checked with axe).
MASTODON_PAGE = (
    '<!doctype html><html lang="en"><head><title>Mastodon</title></head>'
    "<body><main><h1>New post</h1></main></body></html>"
)


def test_the_time_zone_defaults_to_the_browsers(live_server, browser: Browser) -> None:
    subscriber = Subscriber.objects.create(email="s@example.com", status="active")
    page = browser.new_context(timezone_id="Europe/Berlin").new_page()
    page.goto(f"{live_server.url}/subscription/{manage_token(subscriber)}/")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    expect(page.get_by_text("Time zone set from this browser (Europe/Berlin)")).to_be_visible()
    page.get_by_role("button", name="Save preferences").click()
    subscriber.refresh_from_db()
    assert subscriber.timezone == "Europe/Berlin"


def test_mastodon_share_remembers_the_server(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Toot this")
    page.context.route(
        "https://fosstodon.org/**", lambda route: route.fulfill(body=MASTODON_PAGE, content_type="text/html")
    )
    page.goto(live_server.url + post.get_absolute_url())
    page.locator("#engagement-top summary").click()
    with page.context.expect_page() as opened:
        page.locator("#engagement-top").get_by_role("link", name="Mastodon").click()
    share = opened.value
    share.get_by_label("Your Mastodon server").fill("fosstodon.org")
    share.get_by_role("button", name="Share").click()
    expect(share).to_have_url(re.compile(r"^https://fosstodon\.org/share\?text=Toot%20this%20"))
    share.goto(f"{live_server.url}/p/{post.slug}/share/mastodon/")
    expect(share.get_by_label("Your Mastodon server")).to_have_value("fosstodon.org")
    assert Share.objects.get().network == "mastodon"


def test_a_reader_finds_tags_related_posts_and_restacks(live_server, page: Page) -> None:
    ada = make_user("ada")
    post = make_post(ada, "On tariffs")
    post.tags.add("trade")
    other = make_post(ada, "More on trade")
    other.tags.add("trade")
    page.goto(live_server.url)
    page.get_by_role("link", name="Tags").click()
    page.get_by_role("link", name=re.compile("^trade")).click()
    expect(page.get_by_role("link", name="RSS feed of “trade”")).to_be_visible()
    page.get_by_role("link", name="On tariffs").click()
    page.locator(".related").get_by_role("link", name="More on trade").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("More on trade")


# --- Moderators -------------------------------------------------------------------


def test_a_moderator_approves_from_the_post_page(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Debated")
    make_user("milo", role=MODERATORS)
    held = Comment.objects.create(post=post, author=make_user("rosa"), body="Held one", body_html="<p>Held one</p>",
                                  status="held")  # fmt: skip
    sign_in(page, live_server.url, "milo@example.com")
    expect(page.get_by_role("link", name="Moderation (1 waiting)")).to_be_visible()
    page.goto(live_server.url + post.get_absolute_url())
    comment = page.locator(f"#comment-{held.pk}")
    comment.get_by_text("Moderate").click()
    comment.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approve: 1 comment.")).to_be_visible()
    expect(page.get_by_role("link", name="Moderation", exact=True)).to_be_visible()
    assert Comment.objects.get(pk=held.pk).status == "approved"


def test_the_delete_key_in_the_queue_asks_first(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Queued")
    make_user("milo", role=MODERATORS)
    held = Comment.objects.create(post=post, author=make_user("rosa"), body="Held", body_html="<p>Held</p>",
                                  status="held")  # fmt: skip
    sign_in(page, live_server.url, "milo@example.com")
    page.goto(f"{live_server.url}/moderation/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.keyboard.press("4")
    page.wait_for_timeout(300)  # a dismissed question sends nothing
    assert Comment.objects.get(pk=held.pk).status == "held"
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("4")
    expect(page.get_by_text("Delete: 1 comment.")).to_be_visible()
    assert Comment.objects.get(pk=held.pk).status == "removed"


def test_a_reader_is_asked_before_deleting_a_comment(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Second thoughts")
    mine = Comment.objects.create(post=post, author=make_user("rosa"), body="Oops", body_html="<p>Oops</p>")
    sign_in(page, live_server.url, "rosa@example.com")
    page.goto(live_server.url + post.get_absolute_url())
    page.locator(f"#comment-{mine.pk}").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete your comment?")).to_be_visible()
    page.get_by_role("button", name="Delete comment").click()
    expect(page.get_by_text("Your comment is deleted.")).to_be_visible()
    assert Comment.objects.get(pk=mine.pk).is_deleted


# --- Authors: the editor ------------------------------------------------------------


def _png_base64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_the_editor_autosaves_previews_and_takes_a_dropped_image(live_server, page: Page) -> None:
    make_user("ada", role=AUTHORS)
    sign_in(page, live_server.url, "ada@example.com")
    page.goto(f"{live_server.url}/write/new/")
    page.get_by_label("Title", exact=True).fill("Typed, not saved")
    page.get_by_label("Body", exact=True).fill("Some **bold** words")
    expect(page.locator("[data-live-preview-body] strong")).to_have_text("bold")
    expect(page.get_by_text(re.compile(r"^Draft saved at"))).to_be_visible()
    post = Post.objects.get()
    expect(page).to_have_url(f"{live_server.url}/write/{post.pk}/")
    expect(page.get_by_label("Slug")).to_have_value("typed-not-saved")
    assert (post.title, post.status) == ("Typed, not saved", "draft")

    page.once("dialog", lambda dialog: dialog.accept("A green square"))
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "square.png", {type: "image/png"}));
            const body = document.querySelector("textarea[name=body]");
            body.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        _png_base64(),
    )
    expect(page.locator("[data-live-preview-body] img[alt='A green square']")).to_be_visible()
    image = PostImage.objects.get()
    expect(page.get_by_label("Body", exact=True)).to_have_value(
        re.compile(re.escape(f"![A green square]({image.image.url})"))
    )

    Post.objects.get(pk=post.pk).save()  # the same draft saved in another tab
    page.get_by_label("Body", exact=True).press("End")
    page.get_by_label("Body", exact=True).type(" more")
    expect(page.get_by_text(re.compile("changed elsewhere"))).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert").filter(has_text="changed elsewhere")).to_be_visible()
