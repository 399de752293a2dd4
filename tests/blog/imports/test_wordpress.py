import pytest
from django.core import mail

from blog.models import Comment, Post
from blog.transfers.imports import run_import
from tests.blog.imports.conftest import FIXTURES

pytestmark = pytest.mark.django_db

WXR = FIXTURES / "wordpress" / "export.xml"


def test_it_imports_posts_drafts_authors_and_tags(sam) -> None:
    report = run_import(WXR, user=sam)

    assert not report.refused
    assert report.source == "wordpress"
    bridge = Post.objects.get(slug="the-bridge-vote")
    assert bridge.author.email == "tess@harbournotes.example.com"
    assert bridge.author.display_name == "Tess Marlow"
    assert not bridge.author.has_perm("blog.add_post") and not bridge.author.has_usable_password()  # no role
    assert Post.objects.get(slug="budget-in-one-table").author.username == "dan"
    assert bridge.published_at.isoformat() == "2025-03-04T09:00:00+00:00"
    assert sorted(bridge.tags.names()) == ["Budget", "Politics"]
    assert Post.objects.get(title="Notes for later").status == Post.Status.DRAFT
    assert report.counts["posts"]["created"] == 5
    assert not Post.objects.filter(slug="about").exists()
    assert "1 page was not imported (Dispatch has posts only): “About”." in report.notes


def test_bodies_keep_quotes_with_cite_footnotes_tables_images_and_classic_paragraphs(sam) -> None:
    run_import(WXR, user=sam)

    bridge = Post.objects.get(slug="the-bridge-vote")
    assert "> — Councillor Mara Ellis" in bridge.body
    assert "[^1]: Council minutes, item 7." in bridge.body
    assert "<script" not in bridge.body_html and "steal" not in bridge.body_html
    assert "<table>" in Post.objects.get(slug="budget-in-one-table").body_html
    assert bridge.cover.name.startswith("imports/")  # its featured image
    minister = Post.objects.get(slug="what-the-minister-said").body_html
    assert minister.startswith("<p>The minister gave three answers")
    assert "<blockquote>" in minister and "<li>No promise was made.</li>" in minister


def test_comments_keep_their_threads_and_states(sam) -> None:
    run_import(WXR, user=sam)

    assert Comment.objects.count() == 10  # the pingback is left out
    states = dict(Comment.objects.values_list("body", "status"))
    assert states["Eleven years! Finally."] == Comment.Status.APPROVED
    assert states["Waiting for moderation, this one."] == Comment.Status.HELD
    assert states["Buy [cheap pills](https://spam.example)"] == Comment.Status.SPAM
    assert states["Said something rude here once."] == Comment.Status.REMOVED
    answer = Comment.objects.get(body="Which budget line?")
    assert answer.level == 3 and answer.reply_to.body.startswith("Not quite finally")
    deepest = Comment.objects.get(body="A very deep reply, five levels down.")
    assert deepest.level == 4 and deepest.parent.body == "Thanks."
    assert deepest.author.email == "mina@imported.invalid"
    assert Comment.objects.filter(author__email="rosa@example.com").values("author").distinct().count() == 1
    assert mail.outbox == []


def test_old_wordpress_addresses_redirect_to_the_post(client, sam) -> None:
    run_import(WXR, user=sam)

    for old in ["/2025/03/04/the-bridge-vote/", "/2025/03/04/the-bridge-vote", "/?p=11"]:
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"] == "/p/the-bridge-vote/"
    assert client.get("/?p=999").status_code == 200  # the home page, as before
    assert client.get("/2025/03/04/nothing-here/").status_code == 404


def test_rerunning_changes_nothing(sam) -> None:
    run_import(WXR, user=sam)
    posts, comments = list(Post.objects.values()), list(Comment.objects.values())

    report = run_import(WXR, user=sam)

    assert list(Post.objects.values()) == posts and list(Comment.objects.values()) == comments
    assert report.counts["posts"] == {"created": 0, "updated": 0, "skipped": 5}


def test_an_author_gets_every_post_and_no_comments(ada) -> None:
    report = run_import(WXR, user=ada)

    assert set(Post.objects.values_list("author__username", flat=True)) == {"ada"}
    assert not Comment.objects.exists()
    assert "Comments and other authors' bylines are imported only by those who manage subscribers." in report.notes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<rss><channel><title>x</title>", "not well-formed XML"),
        (b"<html><body>hello</body></html>", "not a WordPress export"),
        (
            b'<rss xmlns:wp="http://wordpress.org/export/9.9/"><channel><wp:wxr_version>9.9</wp:wxr_version>'
            b"</channel></rss>",
            "WXR version 9.9 is not one Dispatch reads",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b"<rss><channel>&lol2;</channel></rss>",
            "declares entities or a DTD, as XML bombs do",
        ),
    ],
)
def test_files_of_the_wrong_shape_are_refused(tmp_path, sam, content, message) -> None:
    path = tmp_path / "export.xml"
    path.write_bytes(content)

    report = run_import(path, user=sam)

    assert message in report.refused
    assert not Post.objects.exists()


def test_staff_see_a_posts_old_addresses_in_the_admin(client, sam) -> None:
    run_import(WXR, user=sam)
    sam.is_superuser = True
    sam.save()
    client.force_login(sam)

    page = client.get(f"/admin/blog/post/{Post.objects.get(slug='the-bridge-vote').pk}/change/").content.decode()

    assert "/2025/03/04/the-bridge-vote/" in page and "/?p=11" in page


def test_signed_out_readers_see_comments_added_by_a_later_import(
    client, sam, tmp_path, django_capture_on_commit_callbacks
) -> None:
    first = tmp_path / "first.xml"  # the first post alone, before its comments
    first.write_bytes(WXR.read_bytes().split(b"<wp:comment>")[0] + b"</item></channel></rss>")
    with django_capture_on_commit_callbacks(execute=True):
        run_import(first, user=sam)
    assert client.get("/p/the-bridge-vote/").status_code == 200  # rendered and kept for signed-out readers

    with django_capture_on_commit_callbacks(execute=True):
        run_import(WXR, user=sam)

    assert "Eleven years! Finally." in client.get("/p/the-bridge-vote/").content.decode()
