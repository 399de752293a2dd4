"""Issue 13 in Chromium: how a post goes out, and a like from the e-mail."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.roles import AUTHORS
from blog.models import Like, NewsletterSettings, Post, Subscriber
from blog.newsletter.subscriptions import like_token
from tests.browser.session import sign_in
from tests.factories import grant, make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_author_tests_publishes_on_the_web_then_emails_it(live_server, page: Page) -> None:
    ada = make_user("ada", role=AUTHORS)
    post = make_post(ada, "Budget day", status=Post.Status.DRAFT, body="The **budget**[^1].\n\n[^1]: Treasury")
    for i in range(2):
        Subscriber.objects.create(email=f"s{i}@example.com", status="active")
    sign_in(page, live_server.url, "ada@example.com")
    page.goto(f"{live_server.url}/write/{post.pk}/")

    page.get_by_role("button", name="Send a test e-mail to ada@example.com").click()
    expect(page.get_by_text("A test e-mail of this post is on its way to ada@example.com.")).to_be_visible()
    assert [m.subject for m in mail.outbox] == ["[Test] Budget day"]
    assert "The budget[1]." in mail.outbox[0].body and "[1] Treasury" in mail.outbox[0].body

    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("heading", name="Publish “Budget day” now?")).to_be_visible()
    page.get_by_role("button", name="Publish", exact=True).click()  # no choice made: the browser asks
    assert not Post.objects.get(pk=post.pk).is_live
    page.get_by_label("Publish on the web only").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published on the web only; no e-mail was sent.")).to_be_visible()
    assert len(mail.outbox) == 1

    page.get_by_role("link", name="Published on the web only: e-mail it now").click()
    page.get_by_role("button", name="E-mail it now to 2 subscribers").click()
    expect(page.get_by_text("On its way to 2 subscribers.")).to_be_visible()
    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["s0@example.com", "s1@example.com"]


def test_a_subscriber_manager_turns_on_the_welcome_email(live_server, page: Page) -> None:
    grant(make_user("ada", role=AUTHORS), "blog.manage_subscribers")
    sign_in(page, live_server.url, "ada@example.com")
    page.get_by_role("link", name="Write").click()
    page.get_by_role("link", name="Welcome e-mail").click()
    page.get_by_label("Send a welcome e-mail").check()
    page.get_by_label("Subject").fill("Welcome aboard")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Welcome e-mail saved.")).to_be_visible()
    settings = NewsletterSettings.load()
    assert settings.welcome_enabled and settings.welcome_subject == "Welcome aboard"


def test_a_subscriber_likes_from_the_email_in_one_press(live_server, page: Page) -> None:
    post = make_post(make_user("ada"), "Worth a like")
    subscriber = Subscriber.objects.create(email="reader@example.com", status="active")
    page.goto(f"{live_server.url}/p/{post.slug}/like/by-email/{like_token(post, subscriber)}/")
    expect(page.get_by_role("heading", name="Like “Worth a like”?")).to_be_visible()
    assert not Like.objects.exists()
    page.get_by_role("button", name="Like this post").click()
    expect(page.get_by_role("heading", name="Liked. Thank you!")).to_be_visible()
    expect(page.get_by_text(re.compile("among the post's 1 like\\."))).to_be_visible()
    assert Like.objects.get().subscriber == subscriber
