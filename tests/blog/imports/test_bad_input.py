"""Files an import cannot take: each is refused with a message and leaves nothing behind."""

import zipfile
from pathlib import Path

import pytest

from blog.models import Post, SourceRecord, Subscriber
from blog.transfers.imports import archive, run_import
from blog.transfers.imports.steps import Importer

pytestmark = pytest.mark.django_db


def refused(path: Path, user) -> str:
    report = run_import(path, user=user)
    assert not Post.objects.exists() and not Subscriber.objects.exists() and not SourceRecord.objects.exists()
    return report.refused


def test_a_truncated_zip_is_refused(tmp_path, sam, substack_zip) -> None:
    cut = tmp_path / "cut.zip"
    cut.write_bytes(substack_zip.read_bytes()[:600])

    assert "The ZIP file is damaged or cut short" in refused(cut, sam)


def test_a_file_that_is_no_export_is_refused(tmp_path, sam) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 JFIF")

    assert "This is not an export Dispatch knows" in refused(path, sam)


def test_an_empty_file_is_refused(tmp_path, sam) -> None:
    path = tmp_path / "empty.zip"
    path.write_bytes(b"")

    assert refused(path, sam) == "The file is empty."


def test_a_zip_of_something_else_is_refused(tmp_path, sam) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as other:
        other.writestr("notes.txt", "hello")
        other.writestr("more.txt", "hello")

    assert "This ZIP is not an export Dispatch knows" in refused(path, sam)


@pytest.mark.parametrize("name", ["../../etc/cron.d/evil", "/etc/passwd", "posts/../../../evil.html", "C:/evil"])
def test_names_that_climb_out_of_the_folder_are_refused(tmp_path, sam, substack_zip, name) -> None:
    path = tmp_path / "climb.zip"
    path.write_bytes(substack_zip.read_bytes())
    with zipfile.ZipFile(path, "a") as climb:
        climb.writestr(name, "x")

    assert "The ZIP holds a file outside its own folder" in refused(path, sam)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, sam, substack_zip, monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNCOMPRESSED_BYTES", 10 * 1024**2)
    path = tmp_path / "bomb.zip"
    path.write_bytes(substack_zip.read_bytes())
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("posts/zeros.html", b"0" * (11 * 1024**2))
    assert path.stat().st_size < 200 * 1024

    assert "The ZIP unpacks to 11 MB; the most an import takes is 10 MB." in refused(path, sam)


def test_a_zip_of_too_many_files_is_refused(tmp_path, sam, monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_FILES", 5)
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as many:
        for n in range(6):
            many.writestr(f"posts/{n}.html", "x")

    assert "The ZIP holds 6 files; the most an import takes is 5." in refused(path, sam)


def test_a_file_over_the_limit_is_refused_unread(tmp_path, sam, substack_zip, settings) -> None:
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = tmp_path / "big.zip"
    big.write_bytes(b"PK" + b"0" * (2 * 1024 * 1024))

    assert refused(big, sam) == "The file is 2 MB; the largest import is 1 MB."


def test_a_substack_zip_without_its_columns_is_refused(tmp_path, sam) -> None:
    path = tmp_path / "wrong.zip"
    with zipfile.ZipFile(path, "w") as wrong:
        wrong.writestr("posts.csv", "id,name\n1,x\n")

    assert "posts.csv is not a Substack export: it has no is_published, post_date, post_id, title column" in refused(
        path, sam
    )


def test_a_failure_half_way_leaves_nothing_half_imported(sam, substack_zip, monkeypatch) -> None:
    """Posts are written before the list: a list that fails to load takes the posts back with it."""
    real = Importer.save_subscribers

    def fail_half_way(self, rows, label, **options) -> None:
        real(self, rows, label, **options)
        raise archive.ImportRefused("email_list cannot be read past line 12")

    monkeypatch.setattr(Importer, "save_subscribers", fail_half_way)

    assert refused(substack_zip, sam) == "email_list cannot be read past line 12"
    assert not list((Path(substack_zip).parent / "media" / "imports").glob("*"))


def test_future_dates_make_drafts_and_are_reported(tmp_path, sam) -> None:
    path = tmp_path / "future.zip"
    with zipfile.ZipFile(path, "w") as future:
        future.writestr("posts.csv", "post_id,post_date,is_published,title\n1.later,2099-01-01T00:00:00Z,true,Later\n")
        future.writestr("posts/1.later.html", "<p>Soon.</p>")

    report = run_import(path, user=sam)

    assert Post.objects.get(slug="later").status == Post.Status.DRAFT
    assert "Post “Later” is dated in the future (2099-01-01 00:00); not taken as its date." in report.problems
