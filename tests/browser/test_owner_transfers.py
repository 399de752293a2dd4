"""The owner moves the publication in and out without a superuser (issue 26):
a Publisher exports everything and downloads it, then brings a Substack
export over, subscribers included."""

import zipfile

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import PUBLISHERS
from blog.models import Subscriber
from blog.transfers.imports import media
from tests.browser.session import sign_in
from tests.browser.test_imports import substack_zip
from tests.factories import make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_publisher_exports_and_imports_the_publication_without_a_superuser(
    live_server, page: Page, tmp_path, monkeypatch, settings
) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    monkeypatch.setattr(media, "fetch", lambda url: (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"))
    owner = make_user("olive", role=PUBLISHERS)
    assert not (owner.is_superuser or owner.is_staff)
    make_post(owner, "Already here")
    sign_in(page, live_server.url, "olive@example.com")

    page.get_by_role("link", name="Write").click()
    page.get_by_role("link", name="Export everything").click()
    page.get_by_role("button", name="Start an export").click()
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    saved = tmp_path / "export.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert any(name.endswith(".md") and "already-here" in name for name in archive.namelist())

    page.goto(f"{live_server.url}/write/")
    page.get_by_role("link", name="Import a publication").click()
    page.get_by_label("Export file").set_input_files(substack_zip(tmp_path / "substack-export.zip"))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Status: Imported")).to_be_visible()
    assert Subscriber.objects.exists()  # the list came too: the owner manages subscribers
