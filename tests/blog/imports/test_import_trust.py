"""Imports cannot be turned against other people: another author's posts, old addresses and accounts
stay theirs (docs/security.md, "Imports and restores")."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User
from blog.models import Comment, ImportJob, Post
from tests.blog.imports.conftest import FIXTURES
from tests.factories import make_user

pytestmark = pytest.mark.django_db

WXR = FIXTURES / "wordpress" / "export.xml"


def import_as(client, user: User, path: Path, upload, start) -> ImportJob:
    """Upload `path` on the desk as `user`, then press Import; the job as it ended."""
    client.force_login(user)
    upload(path, "export.xml")
    job = ImportJob.objects.filter(user=user).latest("pk")
    start(job.pk)
    job.refresh_from_db()
    return job


def dry_run_page(client, user: User, path: Path, upload) -> str:
    client.force_login(user)
    response = upload(path, "export.xml")
    return client.get(response["Location"]).content.decode()


def hostile_copy(tmp_path: Path) -> Path:
    """The same WordPress export (the same post ids and old addresses), its titles rewritten."""
    copy = tmp_path / "hostile.xml"
    copy.write_text(WXR.read_text().replace("<![CDATA[The bridge vote]]>", "<![CDATA[Defaced]]>"))
    return copy


def test_reusing_another_authors_source_ids_makes_new_posts_and_leaves_theirs_alone(
    client, upload, start, ada, bo, tmp_path
) -> None:
    import_as(client, ada, WXR, upload, start)
    bridge = Post.objects.get(slug="the-bridge-vote")
    assert bridge.author == ada

    page = dry_run_page(client, bo, hostile_copy(tmp_path), upload)

    # The dry run reads as for ids nobody imported: it tells bo nothing of ada's import.
    assert "posts: 5 would be created, 0 would be updated, 0 skipped" in page
    job = ImportJob.objects.filter(user=bo).latest("pk")
    start(job.pk)
    bridge.refresh_from_db()
    assert (bridge.title, bridge.author) == ("The bridge vote", ada)
    assert Post.objects.filter(author=ada).count() == 5
    assert Post.objects.get(title="Defaced").author == bo
    # Ada's old addresses still lead to her post, not to bo's copy.
    assert client.get("/2025/03/04/the-bridge-vote/")["Location"] == bridge.get_absolute_url()
    assert client.get("/?p=11")["Location"] == bridge.get_absolute_url()


def test_an_author_reimporting_updates_only_their_own_copy(client, upload, start, ada, bo, tmp_path) -> None:
    hostile = hostile_copy(tmp_path)
    import_as(client, ada, WXR, upload, start)
    import_as(client, bo, hostile, upload, start)

    assert "posts: 0 would be created, 0 would be updated, 5 skipped" in dry_run_page(client, bo, hostile, upload)
    renamed = tmp_path / "renamed.xml"
    renamed.write_text(hostile.read_text().replace("<![CDATA[Defaced]]>", "<![CDATA[Defaced again]]>"))
    import_as(client, bo, renamed, upload, start)

    assert Post.objects.get(title="Defaced again").author == bo
    assert Post.objects.get(slug="the-bridge-vote").title == "The bridge vote"
    assert Post.objects.count() == 10


def test_an_editor_may_update_any_authors_imported_post(client, upload, start, ada, lena, tmp_path) -> None:
    import_as(client, ada, WXR, upload, start)

    import_as(client, lena, hostile_copy(tmp_path), upload, start)

    bridge = Post.objects.get(slug="the-bridge-vote")
    assert (bridge.title, bridge.author) == ("Defaced", ada)
    assert Post.objects.count() == 5


def export_naming(tmp_path: Path, *, author: str, commenter: str) -> Path:
    """The WordPress export with its author Tess and its commenter Jonah given these addresses."""
    text = WXR.read_text().replace("tess@harbournotes.example.com", author).replace("jonah@example.com", commenter)
    path = tmp_path / "people.xml"
    path.write_text(text)
    return path


def test_a_subscriber_manager_cannot_byline_members_or_comment_as_the_moderator(
    client, upload, start, sam, rosa, milo, tmp_path
) -> None:
    export = export_naming(tmp_path, author=rosa.email, commenter=milo.email)

    job = import_as(client, sam, export, upload, start)

    assert job.status == ImportJob.Status.DONE
    assert not Post.objects.filter(author=rosa).exists()
    assert not Comment.objects.filter(author__in=[rosa, milo]).exists()
    bridge = Post.objects.get(slug="the-bridge-vote")
    assert bridge.author.display_name == "Tess Marlow" and bridge.author.email.endswith("@imported.invalid")
    assert not bridge.author.has_usable_password()
    # And nobody was given a role: not the reader, not the accounts the import made.
    rosa = User.objects.get(pk=rosa.pk)
    assert not rosa.groups.exists() and not rosa.has_perm("blog.add_post")
    made = User.objects.exclude(pk__in=[sam.pk, rosa.pk, milo.pk])
    assert made.exists() and not made.filter(groups__isnull=False).exists()


def test_reimporting_people_reuses_the_accounts_the_import_made(client, upload, start, sam, rosa, tmp_path) -> None:
    export = export_naming(tmp_path, author=rosa.email, commenter="jonah@example.com")
    import_as(client, sam, export, upload, start)
    people = User.objects.count()

    import_as(client, sam, export, upload, start)

    assert User.objects.count() == people


def test_a_superuser_or_the_command_line_links_people_by_address_but_grants_no_role(rosa, milo, tmp_path) -> None:
    export = export_naming(tmp_path, author=rosa.email, commenter=milo.email)

    call_command("import_publication", str(export), stdout=StringIO(), stderr=StringIO())

    assert Post.objects.filter(author=rosa).count() == 3
    assert Comment.objects.filter(author=milo).exists()
    assert not User.objects.get(pk=rosa.pk).groups.exists()


def test_a_superuser_on_the_desk_links_people_by_address(client, upload, start, rosa, tmp_path) -> None:
    root = make_user("root", is_staff=True, is_superuser=True)
    export = export_naming(tmp_path, author=rosa.email, commenter="jonah@example.com")

    import_as(client, root, export, upload, start)

    assert Post.objects.filter(author=rosa).count() == 3
    assert not User.objects.get(pk=rosa.pk).groups.exists()
