"""A small upload cannot unpack into a worker-sized heap: each file of an export is capped by how it is read,
before it is unpacked (blog/transfers/imports/archive.py, docs/security.md "Imports and restores").

Each bomb below is a ZIP of a few dozen kilobytes whose one file unpacks to tens of megabytes of the
cheapest structure to write and the dearest to parse: empty JSON objects, empty XML elements, CSV rows."""

import os
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from blog.models import ImportJob, Post, SourceRecord, Subscriber
from blog.shared.files import private_storage
from blog.transfers.exports import export_publication
from tests.blog.imports.conftest import FIXTURES
from tests.factories import make_post

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
MB = 1024**2
GHOST_BOMB = b'{"db":[{"meta":{"version":"5.96.0"},"data":{"posts":[' + b"{}," * (16 * MB) + b"{}]}}]}"
WXR_BOMB = b'<?xml version="1.0"?><rss><channel>' + b"<a/>" * (12 * MB) + b"</channel></rss>"
POSTS_CSV = (FIXTURES / "substack" / "posts.csv").read_bytes()


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


BOMBS = {
    "ghost-json": lambda tmp: zipped(tmp / "ghost.zip", {"ghost.json": GHOST_BOMB}),
    "wordpress-xml": lambda tmp: zipped(tmp / "wordpress.zip", {"export.xml": WXR_BOMB}),
    "substack-posts-csv": lambda tmp: zipped(
        tmp / "substack.zip", {"posts.csv": POSTS_CSV.splitlines(keepends=True)[0] + b"1.a,x,x,x\n" * (6 * MB)}
    ),
    "substack-post-body": lambda tmp: zipped(
        tmp / "substack.zip",
        {
            "posts.csv": b"post_id,post_date,is_published,title\n1.a,2025-01-01T00:00:00Z,true,A\n",
            "posts/1.a.html": b"<p>" + b"<b></b>" * (3 * MB) + b"</p>",
        },
    ),
    "substack-email-list": lambda tmp: zipped(
        tmp / "substack.zip",
        {
            "posts.csv": b"post_id,post_date,is_published,title\n",
            "email_list.pub.csv": b"email,active_subscription,created_at\n" + b"a@b.cc,true,x\n" * (5 * MB),
        },
    ),
}


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_compressed_bomb_uploaded_on_the_desk_is_refused_before_it_is_unpacked(
    client, upload, ada, tmp_path, bomb
) -> None:
    path = BOMBS[bomb](tmp_path)
    assert path.stat().st_size < 200_000
    client.force_login(ada)

    response = upload(path, path.name)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported:" in page and "an import takes at most" in page
    assert not private_storage().exists(job.path)
    assert not Post.objects.exists() and not Subscriber.objects.exists() and not SourceRecord.objects.exists()


def test_a_dispatch_export_with_an_endless_line_is_refused(tmp_path) -> None:
    export = zipped(
        tmp_path / "dispatch.zip",
        {
            "manifest.json": b'{"format": "dispatch-export", "version": 1}',
            "data/users.json": b'[\n{"username": "' + b"x" * (40 * MB) + b'"}\n]\n',
        },
    )
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("import_publication", str(export), stdout=out, stderr=StringIO())

    assert "data/users.json line 2 is longer than any row of an export; refused." in out.getvalue()


def test_a_dispatch_export_with_a_post_body_bomb_is_refused(tmp_path, ada) -> None:
    post = make_post(ada, "Harbour news")
    export = tmp_path / "dispatch.zip"
    export_publication(export)
    Post.objects.all().delete()
    with zipfile.ZipFile(export) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[f"posts/{post.slug}.md"] = b"---\ntitle: x\n---\n" + b"a" * (30 * MB)
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("import_publication", str(zipped(export, members)), stdout=out, stderr=StringIO())

    assert f"“posts/{post.slug}.md” unpacks to 30 MB; an import takes at most 5 MB for it." in out.getvalue()
    assert not Post.objects.exists()


def test_a_json_file_too_large_to_parse_whole_is_refused_as_it_is(client, upload, ada, tmp_path, settings) -> None:
    settings.IMPORT_MAX_DOCUMENT_BYTES = MB
    path = tmp_path / "ghost.json"
    path.write_bytes(GHOST_BOMB[: 2 * MB] + b"{}]}}]}")
    client.force_login(ada)

    response = upload(path, "ghost.json")

    page = client.get(response["Location"]).content.decode()
    assert "The file unpacks to 2 MB; an import takes at most 1 MB for it." in page


def test_a_real_export_still_fits(client, upload, ada, substack_zip) -> None:
    client.force_login(ada)
    upload(substack_zip)
    assert ImportJob.objects.get().status == ImportJob.Status.CHECKED


def test_the_dry_run_of_a_bomb_stays_small_in_memory(tmp_path) -> None:
    """The command's whole process, Django included, measured from outside: parsing the file whole
    would take it past a gigabyte."""
    bomb = BOMBS["ghost-json"](tmp_path)
    measure = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=False); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "manage.py", "import_publication", str(bomb), "--dry-run"]
    env = {**os.environ, "TESTING": "1", "DATABASE_URL": "sqlite://:memory:"}

    result = subprocess.run(
        [sys.executable, "-c", measure, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert "an import takes at most 8 MB" in result.stdout, result.stderr[-2000:]
    peak_mb = int(result.stdout.split()[-1]) / 1024
    assert peak_mb < 250, f"the import took {peak_mb:.0f} MB"
