"""The publication's owner, in Chromium: sets the name, logo, colour and sender
and sees them on the site and in an e-mail, then finds a member."""

from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import Page, expect

from blog.management.commands.seed_demo import PASSWORD
from blog.models import Subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("author@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


@pytest.fixture
def seeded(db) -> None:
    call_command("seed_demo", "--force", verbosity=0)
    Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{i:03d}@harbour.example", status="active", source="post-top:tides") for i in range(300)
    )


@pytest.fixture
def logo(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.png"
    Image.new("RGB", (600, 120), "#1d4f91").save(path)
    return path


def test_the_owner_sets_up_the_publication_and_finds_a_member(live_server, page: Page, seeded, logo) -> None:
    base = live_server.url
    sign_in(page, base)
    page.goto(f"{base}/write/")
    page.get_by_role("link", name="Site settings").click()

    page.get_by_label("Publication name").fill("The Harbour Ledger")
    page.get_by_label("Accent colour").fill("#ffdd00")  # too light to read: refused, nothing saved
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("#ffdd00 has a contrast of 1.3:1 against the page background")).to_be_visible()
    expect(page.locator(".masthead .brand")).to_have_text("Dispatch")

    page.get_by_label("Accent colour").fill("#1d4f91")
    page.get_by_label("Logo").set_input_files(str(logo))
    page.get_by_label("Sender name").fill("Olive at the Ledger")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Site settings saved.")).to_be_visible()

    page.goto(f"{base}/")
    expect(page).to_have_title("The Harbour Ledger")
    brand = page.locator(".masthead .brand")
    expect(brand).to_have_text("The Harbour Ledger")
    expect(brand.locator("img.brand-logo")).to_be_visible()
    accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
    assert accent in ("#1d4f91", "#6884ac")  # the dark-mode variant if the browser prefers dark

    # A reader subscribes: the confirmation comes from the new sender, under the new name.
    page.context.clear_cookies()
    page.goto(f"{base}/")
    page.get_by_label("E-mail address").first.fill("new.reader@example.com")
    page.get_by_role("button", name="Subscribe").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    [message] = [m for m in mail.outbox if "new.reader@example.com" in m.to]
    assert message.from_email.startswith("Olive at the Ledger <")
    assert message.subject == "Confirm your subscription to The Harbour Ledger"

    # Back as the owner: find one reader among the members.
    sign_in(page, base)
    page.goto(f"{base}/write/")
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Address").fill("reader123@")
    page.get_by_role("button", name="Find").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one member
    table.get_by_role("link", name="reader123@harbour.example").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("reader123@harbour.example")
    expect(page.get_by_text("post-top:tides")).to_be_visible()
