import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import AUTHORS
from blog.models import Post
from blog.transfers.imports import media
from tests.browser.session import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBSTACK = Path(__file__).resolve().parents[1] / "fixtures" / "substack"


def substack_zip(target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(SUBSTACK.rglob("*")):
            if path.is_file() and path.name != "README.md" and "real" not in path.relative_to(SUBSTACK).parts:
                archive.write(path, path.relative_to(SUBSTACK).as_posix())
    return target


def test_author_uploads_a_substack_export_checks_it_imports_it_and_finds_the_posts(
    live_server, page: Page, tmp_path, monkeypatch, settings
) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    monkeypatch.setattr(media, "fetch", lambda url: (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"))
    make_user("ruth", role=AUTHORS)
    sign_in(page, live_server.url, "ruth@example.com")

    page.get_by_role("link", name="Write").click()
    page.get_by_role("link", name="Import a publication").click()
    page.get_by_label("Export file").set_input_files(substack_zip(tmp_path / "substack-export.zip"))
    page.get_by_role("button", name="Upload and check").click()

    report = page.get_by_role("region", name="Dry run")
    expect(report).to_contain_text("posts: 6 would be created, 0 would be updated, 1 skipped")
    expect(report).to_contain_text("“For paying readers” was for paying subscribers only; imported as a draft.")
    assert not Post.objects.exists()

    page.get_by_role("button", name="Import").click()

    expect(page.get_by_text("Status: Imported")).to_be_visible()
    expect(page.get_by_role("region", name="Import")).to_contain_text("posts: 6 were created")
    page.get_by_role("link", name="the home page").click()
    expect(page.get_by_role("link", name="The bridge vote")).to_be_visible()
    expect(page.get_by_role("link", name="What the minister said")).to_be_visible()

    page.goto(f"{live_server.url}/p/the-bridge-vote/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The bridge vote")
    expect(page.locator(".post-body blockquote").first).to_contain_text("Councillor Mara Ellis")
    expect(page.locator(".post-body sup a.footnote-ref").first).to_be_visible()
