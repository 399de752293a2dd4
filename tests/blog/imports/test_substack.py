from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from blog.models import Comment, Delivery, Post, Send, Subscriber
from blog.posts.publishing import publish_post, unpublish_post
from blog.tasks import queue_send
from blog.transfers.imports import run_import
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def test_it_imports_posts_with_slugs_dates_and_drafts(substack_zip, ada) -> None:
    report = run_import(substack_zip, user=ada)

    assert not report.refused
    bridge = Post.objects.get(slug="the-bridge-vote")
    assert bridge.title == "The bridge vote"
    assert bridge.subtitle == "What the council decided, and what it means"
    assert bridge.status == Post.Status.PUBLISHED
    assert bridge.published_at.isoformat() == "2025-03-04T09:00:00+00:00"
    assert bridge.author == ada
    assert Post.objects.get(slug="notes-for-later").status == Post.Status.DRAFT
    assert Post.objects.get(slug="paid-readers-only").status == Post.Status.DRAFT
    assert not Post.objects.filter(slug="a-thread").exists()
    assert report.counts["posts"] == {"created": 6, "updated": 0, "skipped": 1}


def test_bodies_keep_quotes_attribution_footnotes_links_images_lists_and_tables(substack_zip, ada) -> None:
    run_import(substack_zip, user=ada)

    bridge = Post.objects.get(slug="the-bridge-vote")
    assert "> — Councillor Mara Ellis" in bridge.body
    assert "[^1]: Council minutes, 4 March 2025, item 7." in bridge.body
    assert '<a class="footnote-ref" href="#md-fn:1">1</a>' in bridge.body_html
    assert "<blockquote>" in bridge.body_html
    assert '<a href="https://example.org/budget"' in bridge.body_html
    assert "<img" in bridge.body_html and 'src="/media/imports/' in bridge.body_html
    table = Post.objects.get(slug="budget-in-one-table").body_html
    assert "<table>" in table and "<td>£18m</td>" in table
    minister = Post.objects.get(slug="what-the-minister-said")
    assert "<ol>" in minister.body_html and "<em>autumn</em>" in minister.body_html
    assert "> — The Minister for Transport, 27 May" in minister.body


def test_scripts_and_event_handlers_are_gone(substack_zip, ada) -> None:
    run_import(substack_zip, user=ada)

    html = Post.objects.get(slug="the-bridge-vote").body_html
    assert "<script" not in html and "evil.example" not in html
    assert "onerror" not in html and "onmouseover" not in html


def test_images_that_do_not_answer_keep_their_address_and_are_reported(substack_zip, ada) -> None:
    report = run_import(substack_zip, user=ada)

    ferry = Post.objects.get(slug="ten-years-of-the-ferry")
    assert "https://images.example.invalid/ferry-chart.png" in ferry.body
    assert report.image_failures == [
        "could not fetch https://images.example.invalid/ferry-chart.png; the post keeps the remote address"
    ]


def test_subscribers_keep_their_sign_up_date_and_leavers_are_never_mailed(substack_zip, ada, sam) -> None:
    report = run_import(substack_zip, user=sam)

    ines = Subscriber.objects.get(email="ines@example.com")
    assert ines.status == Subscriber.Status.ACTIVE
    assert ines.confirmed_at.isoformat() == "2023-01-15T10:00:00+00:00"
    assert ines.created_at == ines.confirmed_at
    assert ines.source == f"imported from Substack {timezone.now():%Y-%m-%d}"
    for email in ["chen@example.com", "hana@example.com", "lea@example.com"]:  # free readers: no paid plan
        assert Subscriber.objects.get(email=email).status == Subscriber.Status.ACTIVE
    for email in ["fatima@example.com", "rhea@example.com"]:  # e-mail disabled: suppressed, not "unsubscribed"
        assert Subscriber.objects.get(email=email).status == Subscriber.Status.BOUNCED
    assert Subscriber.objects.count() == 18
    assert report.counts["subscribers"] == {"created": 18, "updated": 0, "skipped": 0}
    assert "had a paid, complimentary or gift plan on Substack" in " ".join(report.notes)


def test_bad_rows_are_reported_by_line(substack_zip, sam) -> None:
    report = run_import(substack_zip, user=sam)

    problems = "\n".join(report.problems)
    assert "Subscriber line 18: “not-an-address” is not a valid e-mail address; skipped." in problems
    assert "Subscriber line 19: Omar@Example.com repeats line 3; skipped." in problems
    assert "Subscriber quinn@example.com is dated in the future" in problems
    assert Subscriber.objects.get(email="quinn@example.com").created_at <= timezone.now()


def test_importing_sends_no_email_and_marks_published_posts_as_sent(substack_zip, sam) -> None:
    run_import(substack_zip, user=sam)

    assert mail.outbox == []
    assert Send.objects.filter(status=Send.Status.DONE).count() == Post.objects.published().count() == 4
    assert not Subscriber.objects.filter(confirmation_sent_at__isnull=False).exists()


def test_rerunning_changes_nothing(substack_zip, sam) -> None:
    run_import(substack_zip, user=sam)
    before = list(Post.objects.order_by("pk").values())

    report = run_import(substack_zip, user=sam)

    assert list(Post.objects.order_by("pk").values()) == before
    assert report.counts["posts"] == {"created": 0, "updated": 0, "skipped": 7}
    assert report.counts["subscribers"] == {"created": 0, "updated": 0, "skipped": 18}


def newer_export(substack_zip, tmp_path):
    import zipfile

    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(substack_zip) as old, zipfile.ZipFile(newer, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "posts.csv":
                data += b"139500.a-new-post,2025-08-01T08:00:00.000Z,true,,,newsletter,everyone,A new post,,\n"
            if item.filename.startswith("email_list"):
                data = data.replace(b"ines@example.com,true,,,false", b"ines@example.com,false,,,true")
                data = data.replace(b"kemal@example.com,true,,,false,2023-11-11T11:11:00.000Z,\n", b"")
                data += b"zora@example.com,false,,,false,2025-08-01T00:00:00.000Z,\n"
            new.writestr(item, data)
        new.writestr("posts/139500.a-new-post.html", "<p>New.</p>")
    return newer


def test_an_updated_export_adds_what_is_new_and_reports_who_is_missing(substack_zip, sam, tmp_path) -> None:
    run_import(substack_zip, user=sam)

    report = run_import(newer_export(substack_zip, tmp_path), user=sam)

    assert report.counts["posts"] == {"created": 1, "updated": 0, "skipped": 7}
    assert report.counts["subscribers"] == {"created": 1, "updated": 1, "skipped": 16}
    assert Subscriber.objects.get(email="ines@example.com").status == Subscriber.Status.BOUNCED
    assert Subscriber.objects.get(email="kemal@example.com").status == Subscriber.Status.ACTIVE
    assert "1 subscribers from an earlier import are not in this list: kemal@example.com" in " ".join(report.notes)


def test_a_newer_list_unsubscribes_those_missing_only_when_asked(substack_zip, sam, tmp_path) -> None:
    run_import(substack_zip, user=sam)

    call_command("import_publication", str(newer_export(substack_zip, tmp_path)), "--unsubscribe-missing",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip

    assert Subscriber.objects.get(email="kemal@example.com").status == Subscriber.Status.UNSUBSCRIBED
    assert Subscriber.objects.get(email="omar@example.com").status == Subscriber.Status.ACTIVE


def test_slugs_taken_by_existing_posts_are_renamed_and_reported(substack_zip, ada) -> None:
    mine = make_post(ada, "Mine", slug="the-bridge-vote")

    report = run_import(substack_zip, user=ada)

    mine.refresh_from_db()
    assert mine.title == "Mine"
    assert Post.objects.get(slug="the-bridge-vote-2").title == "The bridge vote"
    assert "The address /p/the-bridge-vote/ is taken by another post" in " ".join(report.problems)


def test_an_author_imports_posts_into_their_own_byline_but_not_the_list(substack_zip, ada) -> None:
    report = run_import(substack_zip, user=ada)

    assert set(Post.objects.values_list("author__username", flat=True)) == {"ada"}
    assert not Subscriber.objects.exists()
    assert "Subscribers are imported only by those who manage them" in " ".join(report.notes)


def test_a_dry_run_reports_and_changes_nothing(substack_zip, sam, fake_images) -> None:
    report = run_import(substack_zip, user=sam, dry_run=True)

    assert report.counts["posts"]["created"] == 6
    assert report.counts["subscribers"]["created"] == 18
    assert not Post.objects.exists() and not Subscriber.objects.exists()
    assert fake_images == []


def test_the_old_substack_address_is_the_post(client, substack_zip, ada) -> None:
    run_import(substack_zip, user=ada)

    response = client.get("/p/the-bridge-vote/")

    assert response.status_code == 200
    assert b"Seven" in response.content


def test_the_command_imports_with_a_progress_bar(substack_zip, sam) -> None:
    out, err = StringIO(), StringIO()

    call_command("import_publication", str(substack_zip), stdout=out, stderr=err)

    assert "100% 27/27" in err.getvalue()
    assert "Imported (substack):" in out.getvalue()
    assert "posts: 6 were created" in out.getvalue()
    assert Post.objects.filter(author=sam).count() == 6


def test_the_command_dry_run_changes_nothing(substack_zip, sam) -> None:
    out = StringIO()

    call_command("import_publication", str(substack_zip), "--dry-run", stdout=out, stderr=StringIO())

    assert "Dry run, nothing changed (substack):" in out.getvalue()
    assert "posts: 6 would be created" in out.getvalue()
    assert not Post.objects.exists()


def test_the_command_refuses_a_file_it_cannot_take(tmp_path, sam) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"hello")

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_publication", str(junk), stdout=StringIO(), stderr=StringIO())
    assert not Comment.objects.exists()


def test_publishing_an_imported_post_again_mails_nobody(substack_zip, sam, django_capture_on_commit_callbacks) -> None:
    run_import(substack_zip, user=sam)
    post = Post.objects.get(slug="the-bridge-vote")
    unpublish_post(post)

    with django_capture_on_commit_callbacks(execute=True):
        assert publish_post(post)
        queue_send([post.pk])

    assert mail.outbox == []
    assert not Delivery.objects.exists()


def test_the_command_imports_into_the_named_byline_and_takes_the_list(substack_zip, ada) -> None:
    call_command("import_publication", str(substack_zip), "--author", "ada", stdout=StringIO(), stderr=StringIO())

    assert Post.objects.filter(author=ada).count() == 6
    assert Subscriber.objects.count() == 18


def test_an_export_zipped_inside_a_folder_is_read_the_same(substack_zip, sam, tmp_path) -> None:
    import zipfile

    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(substack_zip) as flat, zipfile.ZipFile(nested, "w") as folder:
        for item in flat.infolist():
            folder.writestr(f"my-substack-export/{item.filename}", flat.read(item))
        folder.writestr("__MACOSX/my-substack-export/._posts.csv", b"junk")

    report = run_import(nested, user=sam)

    assert report.counts["posts"]["created"] == 6
