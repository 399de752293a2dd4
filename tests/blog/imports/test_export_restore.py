import json
import zipfile
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import User
from blog.management.commands.seed_demo import ANALYSIS_SLUG
from blog.models import (
    Ban,
    Comment,
    CommentRevision,
    Delivery,
    Digest,
    ExportJob,
    Flag,
    Like,
    ModerationLog,
    Post,
    Restack,
    Send,
    Share,
    Subscriber,
)
from blog.transfers.exports import export_publication
from blog.transfers.imports import run_import
from tests.blog.imports.conftest import png
from tests.factories import grant

pytestmark = pytest.mark.django_db(transaction=True)


def seed_everything() -> None:
    """The demo publication, plus one of each kind of row the export carries."""
    call_command("seed_demo", "--force", verbosity=0)
    analysis = Post.objects.get(slug=ANALYSIS_SLUG)
    reader, jonah, moderator = (User.objects.get(username=h) for h in ("reader", "jonah", "moderator"))
    Like.objects.create(post=analysis, user=reader)
    Restack.objects.create(post=analysis, user=jonah, note="Read the *second* half.", note_html="<p>x</p>")
    Share.objects.create(post=analysis, network="x", user=reader, visitor_hash="abc", day=timezone.now().date())
    comment = Comment.objects.filter(post=analysis).first()
    Flag.objects.create(comment=comment, user=jonah, reason="off_topic", note="Not about the bill", status="rejected")
    CommentRevision.objects.create(comment=comment, body="An earlier draft", written_at=timezone.now(), replaced_by="x")
    Ban.objects.create(email="troll@example.com", reason="Abuse", until=timezone.now() + timedelta(days=7))
    ModerationLog.objects.create(
        moderator=moderator, moderator_handle="moderator", comment=comment, action="approve", before="held",
        after="approved",
    )  # fmt: skip
    now = timezone.now()
    for n, status in enumerate(Subscriber.Status.values):
        Subscriber.objects.create(
            email=f"{status}@example.com",
            status=status,
            source="site",
            consent_ip="203.0.113.9",
            confirmed_at=now if status != "pending" else None,
            frequency="weekly" if n % 2 else "post",
        )
    send, _ = Send.objects.get_or_create(post=analysis, defaults={"status": Send.Status.DONE})
    active = Subscriber.objects.get(email="active@example.com")
    Delivery.objects.create(send=send, subscriber=active, status="sent", sent_at=now)
    Like.objects.create(post=analysis, subscriber=active)  # liked from the e-mail, no account
    Delivery.objects.create(
        send=send, subscriber=Subscriber.objects.get(email="bounced@example.com"), status="failed", error="550"
    )
    gone = Subscriber.objects.get(email="unsubscribed@example.com")
    digest = Digest.objects.create(subscriber=gone, period="weekly:2026-W40")
    digest.posts.set([analysis])
    Delivery.objects.create(digest=digest, subscriber=digest.subscriber, status="sent", sent_at=now)


def read_export(path: Path) -> dict:
    """Every document of an export, with ids that only link rows inside it replaced by positions."""
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n != "manifest.json")
        files = {n: archive.read(n) for n in names}
    data = {n: [json.loads(line.rstrip(",")) for line in files[n].decode().splitlines()[1:-1] if line] for n in names
            if n.startswith("data/")}  # fmt: skip
    comment_ids = {row["id"]: i for i, row in enumerate(data["data/comments.json"])}
    digest_ids = {row["id"]: i for i, row in enumerate(data["data/digests.json"])}
    for row in data["data/comments.json"]:
        row.update(id=comment_ids[row["id"]], reply_to=comment_ids.get(row["reply_to"]),
                   parent=comment_ids.get(row["parent"]))  # fmt: skip
    for kind in ("comment_likes", "flags", "comment_revisions", "moderation_log"):
        for row in data[f"data/{kind}.json"]:
            row["comment"] = comment_ids.get(row["comment"])
    for row in data["data/digests.json"]:
        row["id"] = digest_ids[row["id"]]
    for row in data["data/deliveries.json"]:
        row["digest"] = digest_ids.get(row["digest"])
    others = {n: files[n] for n in names if not n.startswith("data/")}
    return {**others, **{n: rows for n, rows in data.items()}}


def test_export_restore_export_gives_the_same_content(tmp_path, settings) -> None:
    # Ids are compared: start the sequences where the restore will (earlier tests moved them on PostgreSQL).
    call_command("flush", interactive=False, verbosity=0)
    seed_everything()
    first = tmp_path / "first.zip"
    export_publication(first)
    call_command("flush", interactive=False, verbosity=0)
    settings.MEDIA_ROOT = tmp_path / "fresh-media"

    report = run_import(first, trust_accounts=True)  # the operator's own export: its staff and groups too

    assert not report.refused, report.refused
    assert mail.outbox == []
    second = tmp_path / "second.zip"
    export_publication(second)
    before, after = read_export(first), read_export(second)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name] == after[name], name
    statuses = {row["status"] for row in before["data/subscribers.json"]}
    assert statuses == set(Subscriber.Status.values)
    assert before["data/page_view_days.json"] and before["data/link_clicks.json"]
    assert before["data/restacks.json"][0]["note"] == "Read the *second* half."


def test_the_export_holds_markdown_with_front_matter_a_readme_and_no_password_hashes(tmp_path) -> None:
    seed_everything()
    out = tmp_path / "export.zip"

    call_command("export_publication", str(out), stdout=StringIO(), stderr=StringIO())

    with zipfile.ZipFile(out) as archive:
        analysis = archive.read(f"posts/{ANALYSIS_SLUG}.md").decode()
        users = archive.read("data/users.json").decode()
        assert "# Dispatch export" in archive.read("README.md").decode()
        assert json.loads(archive.read("manifest.json"))["format"] == "dispatch-export"
    assert analysis.startswith("---\ntitle: ")
    assert f'slug: "{ANALYSIS_SLUG}"' in analysis and 'status: "published"' in analysis
    assert "password" not in users


def test_password_hashes_only_when_asked(tmp_path) -> None:
    seed_everything()
    out = tmp_path / "export.zip"

    call_command("export_publication", str(out), "--with-password-hashes", stdout=StringIO(), stderr=StringIO())

    with zipfile.ZipFile(out) as archive:
        assert '"password": "md5$' in archive.read("data/users.json").decode()


def test_restoring_into_a_site_with_posts_is_refused_and_changes_nothing(tmp_path) -> None:
    seed_everything()
    out = tmp_path / "export.zip"
    export_publication(out)
    count = Post.objects.count()

    report = run_import(out)

    assert "restored into an empty site" in report.refused
    assert Post.objects.count() == count


def test_staff_start_an_export_on_the_desk_and_download_it(client, settings, tmp_path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    seed_everything()
    staff = User.objects.create_user("root", "root@example.com", "pw", is_staff=True)
    client.force_login(grant(staff, "blog.change_any_post", "blog.manage_subscribers"))

    response = client.post(reverse("blog:export_start"))

    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.status == ExportJob.Status.DONE
    page = client.get(reverse("blog:export_list")).content.decode()
    assert reverse("blog:export_download", args=[job.pk]) in page
    download = client.get(reverse("blog:export_download", args=[job.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="dispatch-export-')
    assert b"manifest.json" in b"".join(download.streaming_content)


def test_exports_need_explicit_permissions(client, kit, bo) -> None:
    call_command("seed_demo", "--force", verbosity=0)
    assert client.get(reverse("blog:export_list")).status_code == 302  # visitors sign in first
    for who in (bo, kit):  # an author (not the publisher), and staff without the permissions
        client.force_login(who)
        assert client.get(reverse("blog:export_list")).status_code == 403
        assert client.post(reverse("blog:export_start")).status_code == 403
    assert not ExportJob.objects.exists()


def test_a_restore_reuses_the_account_made_to_run_it(tmp_path) -> None:
    seed_everything()
    out = tmp_path / "export.zip"
    export_publication(out)
    call_command("flush", interactive=False, verbosity=0)
    admin = User.objects.create_user("admin", "author@example.com", "pw", is_staff=True)

    report = run_import(out)

    assert not report.refused
    assert Post.objects.filter(author=admin).exists()  # the demo author's posts, matched by e-mail


def test_media_come_back_and_a_dry_run_writes_none(tmp_path, settings) -> None:
    seed_everything()
    (Path(settings.MEDIA_ROOT) / "covers").mkdir(parents=True)
    (Path(settings.MEDIA_ROOT) / "covers" / "harbour.png").write_bytes(png(3, 2))
    Post.objects.filter(slug=ANALYSIS_SLUG).update(cover="covers/harbour.png")
    out = tmp_path / "export.zip"
    export_publication(out)
    call_command("flush", interactive=False, verbosity=0)
    settings.MEDIA_ROOT = tmp_path / "fresh-media"

    report = run_import(out, dry_run=True)

    assert report.counts["media files"]["created"] == 1
    assert not (tmp_path / "fresh-media").exists()
    run_import(out)
    with Image.open(tmp_path / "fresh-media" / "covers" / "harbour.png") as restored:
        assert restored.size == (3, 2)
    assert Post.objects.get(slug=ANALYSIS_SLUG).cover.name == "covers/harbour.png"


def test_a_restored_ban_still_bars_its_reader(tmp_path) -> None:
    """Bans are written in bulk on restore: their normalised address must come back too."""
    from blog.discussion import bans

    seed_everything()
    out = tmp_path / "export.zip"
    export_publication(out)
    call_command("flush", interactive=False, verbosity=0)
    run_import(out)
    troll = User.objects.create_user("troll2", "Troll+again@Example.com", "pw")
    assert bans.refusal(troll, None) is not None
    assert CommentRevision.objects.get().body == "An earlier draft"
    assert ModerationLog.objects.get(action="approve").actor == "@moderator"
