"""Real exports written by WordPress, Ghost and Substack (their projects' own test data and
migration tools' fixtures; origins in tests/fixtures/<source>/real/README.md), imported
through the management command as a new user would. Expected counts are read from each
file here, independently of the importer."""

import csv
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from django.core.management import CommandError, call_command
from django.utils.html import strip_tags
from taggit.models import Tag

from blog.models import Comment, Post, SourceRecord, Subscriber
from tests.blog.imports.conftest import FIXTURES

pytestmark = pytest.mark.django_db

WP = "{http://wordpress.org/export/1.2/}"
WP_FILES = ["small-export.xml", "valid-wxr-1.0.xml", "valid-wxr-1.1.xml", "slashes.xml",
            "test-serialized-postmeta-no-cdata.xml", "theme-unit-test-data.xml.gz"]  # fmt: skip
SHORTCODE = re.compile(r"\[/?(caption|gallery|audio|video|embed|playlist|wp_caption)\b")
ESCAPED_ENTITY = re.compile(r"&amp;(#x?[0-9a-f]+|[a-z]+);", re.I)
EMBED_TAGS = ("iframe", "video", "audio", "object", "embed", "script")


def run_command(path: Path) -> str:
    out = io.StringIO()
    call_command("import_publication", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def assert_pages_answer(client) -> None:
    for post in Post.objects.filter(status=Post.Status.PUBLISHED):
        assert client.get(post.get_absolute_url()).status_code == 200, post.slug
    for tag in Tag.objects.all():
        assert client.get(f"/t/{tag.slug}/").status_code == 200, tag.name
    assert client.get("/tags/").status_code == 200


def assert_bodies_clean(report: str) -> None:
    for post in Post.objects.all():
        for text in (post.body_html, post.title, post.subtitle):
            assert not SHORTCODE.search(text), (post.title, SHORTCODE.search(text))
            assert "__GHOST_URL__" not in text and "~~" not in text, post.title
            assert not ESCAPED_ENTITY.search(text), (post.title, ESCAPED_ENTITY.search(text))
        assert "<em>" not in post.title and "&#" not in post.title


def assert_dropped_named(report: str, sources: dict[str, str]) -> None:
    """Every player, embed or script in a source body is either kept as a link to it or named in the report."""
    for title, html in sources.items():
        for tag, attributes in re.findall(rf"<({'|'.join(EMBED_TAGS)})([\s>][^>]*)", html, re.I):
            src = re.search(r"""src=["']([^"']+)""", attributes)
            post = Post.objects.filter(title=title.strip()).first()
            kept = post is not None and src is not None and f'href="{src.group(1)}"' in post.body_html
            assert kept or f"“{title.strip()}”" in report, (title, tag)


# --- WordPress ---------------------------------------------------------------


def wxr_bytes(name: str) -> bytes:
    raw = (FIXTURES / "wordpress" / "real" / name).read_bytes()
    return gzip.decompress(raw) if name.endswith(".gz") else raw


def wxr_expectations(raw: bytes) -> dict:
    channel = ElementTree.fromstring(raw).find("channel")
    wp = WP if channel.find(WP + "wxr_version") is not None else re.match(r"\{[^}]+\}", next(
        c.tag for c in channel if c.tag.endswith("wxr_version"))).group(0)  # fmt: skip
    posts = [i for i in channel.findall("item") if (i.findtext(wp + "post_type") or "").strip() == "post"]
    statuses = [(i.findtext(wp + "status") or "").strip() for i in posts]
    locked = [bool((i.findtext(wp + "post_password") or "").strip()) for i in posts]
    published = sum(1 for s, lock in zip(statuses, locked, strict=True) if s == "publish" and not lock)
    comments = sum(1 for i in posts for c in i.findall(wp + "comment")
                   if (c.findtext(wp + "comment_type") or "") in ("", "comment")
                   and (c.findtext(wp + "comment_approved") or "") in ("1", "0", "spam", "trash"))  # fmt: skip
    tags = {c.text.strip().lower() for i in posts for c in i.findall("category")
            if c.text and c.text.strip() and c.get("nicename") != "uncategorized"}  # fmt: skip
    bodies = {(i.findtext("title") or ""): i.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
              for i in posts}  # fmt: skip
    hidden = [(i.findtext("title") or "").strip() for i, s, lock in zip(posts, statuses, locked, strict=True)
              if lock or s in ("private", "pending")]  # fmt: skip
    pages = [(i.findtext("title") or "").strip() for i in channel.findall("item")
             if (i.findtext(wp + "post_type") or "").strip() == "page"]  # fmt: skip
    return {"posts": len(posts), "published": published, "future": statuses.count("future"), "comments": comments,
            "tags": len(tags), "bodies": bodies, "hidden": hidden, "pages": pages}  # fmt: skip


@pytest.mark.parametrize("name", WP_FILES)
def test_a_real_wordpress_export_arrives_whole(name, client, tmp_path) -> None:
    raw = wxr_bytes(name)
    path = tmp_path / name.removesuffix(".gz")
    path.write_bytes(raw)
    expected = wxr_expectations(raw)

    report = run_command(path)

    assert Post.objects.count() == expected["posts"], report
    assert Post.objects.filter(status=Post.Status.PUBLISHED).count() == expected["published"], report
    assert Post.objects.filter(status=Post.Status.SCHEDULED).count() == expected["future"], report
    drafts = expected["posts"] - expected["published"] - expected["future"]
    assert Post.objects.filter(status=Post.Status.DRAFT).count() == drafts, report
    assert Comment.objects.count() == expected["comments"], report
    assert Tag.objects.count() == expected["tags"], report
    assert_pages_answer(client)
    assert_bodies_clean(report)
    assert_dropped_named(report, expected["bodies"])
    for title in expected["hidden"]:  # private and password-protected posts: drafts, with a line each
        assert f"“{title}” was" in report
    for title in expected["pages"][:20]:
        assert f"“{title}”" in report
    again = run_command(path)
    assert "0 were created" in again and Post.objects.count() == expected["posts"]


# --- Ghost -------------------------------------------------------------------

GHOST_JSON = [
    "migrate-ghost.json",
    "migrate-ghost-flat.json",
    "v4-export-one-post.json",
    "v4-export-one-post-mobiledoc-only.json",
]
GHOST_MEMBERS = ["valid-members-import.csv", "valid-members-defaults.csv", "members-for-bulk-unsubscribe.csv",
                 "valid-members-labels.csv"]  # fmt: skip


@pytest.mark.parametrize("name", GHOST_JSON)
def test_a_real_ghost_export_arrives_whole(name, client) -> None:
    path = FIXTURES / "ghost" / "real" / name
    document = json.loads(path.read_text())
    data = (document["db"][0] if "db" in document else document)["data"]
    posts = [p for p in data["posts"] if p.get("type", "post") == "post"]
    published = [p for p in posts if p["status"] == "published" and p.get("visibility", "public") == "public"]
    tags = {t["name"].lower() for t in data.get("tags", []) if t.get("visibility", "public") == "public"
            and any(link["tag_id"] == t["id"] for link in data.get("posts_tags", []))}  # fmt: skip

    report = run_command(path)

    assert Post.objects.count() == len(posts), report
    assert Post.objects.filter(status=Post.Status.PUBLISHED).count() == len(published), report
    assert Post.objects.filter(status=Post.Status.DRAFT).count() == len(posts) - len(published), report
    assert Tag.objects.count() == len(tags), report
    for row in posts:
        assert Post.objects.get(title=row["title"]).body.strip(), f"{row['title']} arrived empty"
    assert_pages_answer(client)
    assert_bodies_clean(report)


def test_ghost_4s_mobiledoc_arrives_as_its_own_html_does() -> None:
    """The same real Ghost 4 post, once with the html Ghost rendered and once with only its mobiledoc."""
    texts = []
    for name in ["v4-export-one-post.json", "v4-export-one-post-mobiledoc-only.json"]:
        run_command(FIXTURES / "ghost" / "real" / name)
        texts.append(" ".join(strip_tags(Post.objects.get().body_html).split()))
        Post.objects.all().delete()
        SourceRecord.objects.all().delete()

    assert (
        texts[0] == texts[1] and "Installing Ghost themes" in texts[0] and "A snippet from a post template" in texts[0]
    )


@pytest.mark.parametrize("name", GHOST_MEMBERS)
def test_a_real_ghost_members_list_arrives_whole(name) -> None:
    path = FIXTURES / "ghost" / "real" / name
    rows = list(csv.DictReader(path.open(newline="")))
    unsubscribed = [r for r in rows if (r.get("subscribed_to_emails") or r.get("subscribed") or "true") == "false"]

    run_command(path)

    assert Subscriber.objects.count() == len(rows)
    assert Subscriber.objects.filter(status=Subscriber.Status.UNSUBSCRIBED).count() == len(unsubscribed)
    assert Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).count() == len(rows) - len(unsubscribed)


# --- Substack ----------------------------------------------------------------

SUBSTACK = FIXTURES / "substack" / "real"


def substack_zip(tmp_path: Path, email_list: str | None) -> Path:
    target = tmp_path / "substack-export.zip"
    with zipfile.ZipFile(target, "w") as archive:
        folder = SUBSTACK / "mg-substack"
        for path in sorted(folder.rglob("*.*")):
            archive.write(path, path.relative_to(folder).as_posix())
        if email_list:
            archive.write(SUBSTACK / email_list, "email_list.example.csv")
    return target


def substack_expectations() -> dict:
    rows = list(csv.DictReader((SUBSTACK / "mg-substack" / "posts.csv").open(newline="")))
    kept = [r for r in rows if r["type"] in ("newsletter", "podcast")]
    published = [r for r in kept if r["is_published"].lower() == "true" and r["audience"] == "everyone"]
    bodies = {r["title"]: (SUBSTACK / "mg-substack" / "posts" / f"{r['post_id']}.html").read_text() for r in kept}
    return {"posts": len(kept), "published": len(published), "bodies": bodies,
            "left_out": [r["title"] for r in rows if r not in kept]}  # fmt: skip


@pytest.mark.parametrize("email_list", [None, "fixtures_signup_emails.csv", "fixtures_subscriber_emails.csv"])
def test_a_real_substack_export_arrives_whole(email_list, client, tmp_path, sam) -> None:
    expected = substack_expectations()
    subscribers = list(csv.DictReader((SUBSTACK / email_list).open(newline=""))) if email_list else []
    suppressed = [r for r in subscribers if r.get("email_disabled") == "true"]
    paid = [
        r for r in subscribers if r.get("active_subscription") == "true" or r.get("type") in ("paid", "comp", "gift")
    ]

    report = run_command(substack_zip(tmp_path, email_list))

    assert Post.objects.count() == expected["posts"], report
    assert Post.objects.filter(status=Post.Status.PUBLISHED).count() == expected["published"], report
    assert Post.objects.filter(status=Post.Status.DRAFT).count() == expected["posts"] - expected["published"]
    for title in expected["left_out"]:
        assert title in report
    assert Subscriber.objects.count() == len(subscribers), report
    assert Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).count() == len(subscribers) - len(suppressed)
    assert Subscriber.objects.filter(status=Subscriber.Status.BOUNCED).count() == len(suppressed)
    assert_pages_answer(client)
    assert_bodies_clean(report)
    assert_dropped_named(report, expected["bodies"])
    for post in Post.objects.all():
        assert "substack.com/subscribe" not in post.body_html and "/p/my-post/comments" not in post.body_html
    if paid:
        assert f"{len(paid)} subscribers had a paid, complimentary or gift plan on Substack" in report
    podcasts = [r for r in csv.DictReader((SUBSTACK / "mg-substack" / "posts.csv").open()) if r["podcast_url"]]
    for row in podcasts:
        assert f'href="{row["podcast_url"]}"' in Post.objects.get(title=row["title"]).body_html


def test_a_list_without_an_email_column_is_refused(tmp_path, sam) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_publication", str(substack_zip(tmp_path, "invalid.csv")), stdout=out)

    assert "has no email column" in out.getvalue() and not Post.objects.exists()
