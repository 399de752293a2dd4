"""The desk's integrations in Chromium: an owner makes and revokes an API key,
registers a webhook to a receiver on loopback and sends it a test."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import EDITORS
from blog.models import ApiKey, WebhookDelivery
from tests.blog.test_webhooks import receiver  # noqa: F401  (the receiver fixture)
from tests.browser.session import sign_in
from tests.factories import grant, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_makes_a_key_and_a_webhook(live_server, page: Page, receiver, settings) -> None:  # noqa: F811
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    grant(make_user("olga", role=EDITORS), "blog.manage_integrations")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "olga@example.com")
    page.goto(f"{live_server.url}/write/")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Zapier")
    page.get_by_label("Write posts").check()
    page.get_by_role("button", name="Make the key").click()
    expect(page.get_by_role("heading", name="Your new key for “Zapier”")).to_be_visible()
    secret = page.locator("[data-new-key]").inner_text()
    assert re.fullmatch(r"dsp_[0-9a-f]{8}_[\w-]{43}", secret)
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The key “Zapier” is revoked; calls with it now get 401.")).to_be_visible()
    assert ApiKey.objects.get().revoked_at is not None

    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Post published").check()
    page.get_by_role("button", name="Add the webhook").click()
    expect(page.get_by_text("Webhook added. Its signing secret is below.")).to_be_visible()
    receiver.secret = page.locator("code.secret").inner_text()
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_role("cell", name="webhook.test")).to_be_visible()
    [call] = receiver.received
    assert call["valid"] is True
    assert WebhookDelivery.objects.get().response_code == 200
