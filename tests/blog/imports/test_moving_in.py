"""What issue 23 found breaking in real exports, each through the public surface: the
management command, the desk, and the pages a reader opens afterwards."""

import io
import json
import zipfile
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from taggit.models import Tag

from blog.models import Post, SourceRecord, Subscriber
from blog.transfers.imports import run_import
from tests.factories import make_post

pytestmark = pytest.mark.django_db

WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<title>Site</title><link>{site}</link><wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>{site}</wp:base_site_url>
{items}</channel></rss>"""


def item(title: str, body: str = "<p>Text.</p>", *, post_id: str = "", status: str = "publish", password: str = "",
         date: str = "2024-01-02 10:00:00", tags: tuple[str, ...] = (), name: str = "", guid: str = "",
         meta: str = "") -> str:  # fmt: skip
    categories = "".join(f'<category domain="post_tag" nicename="x"><![CDATA[{t}]]></category>' for t in tags)
    return (f"<item><title>{title}</title><guid>{guid}</guid><content:encoded><![CDATA[{body}]]></content:encoded>"
            f"<wp:post_id>{post_id}</wp:post_id><wp:post_date>{date}</wp:post_date><wp:post_name>{name}</wp:post_name>"
            f"<wp:status>{status}</wp:status><wp:post_type>post</wp:post_type><wp:post_password>{password}"
            f"</wp:post_password>{categories}{meta}</item>")  # fmt: skip


def wxr(tmp_path, *items: str, site: str = "https://old.example", name: str = "export.xml"):
    path = tmp_path / name
    path.write_text(WXR.format(site=site, items="".join(items)), encoding="utf-8")
    return path


def command(path, *options: str) -> str:
    out = io.StringIO()
    call_command("import_publication", str(path), *options, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- Slugs that always route (item 2) ---------------------------------------------


def test_tags_with_letters_beyond_ascii_or_none_get_slugs_every_page_can_link(tmp_path, client, sam) -> None:
    path = wxr(tmp_path, item("One", post_id="1", tags=("Ünïcödé", "日本語", "🚀", "News")),
               item("Two", post_id="2", tags=("news", "Ελληνικά")))  # fmt: skip

    report = command(path)

    assert {t.slug for t in Tag.objects.all()} >= {"unicode", "ri-ben-yu", "news", "ellenika"}
    assert all(t.slug.isascii() and t.slug for t in Tag.objects.all())
    assert Tag.objects.filter(name__iexact="news").count() == 1
    assert "The tags “News” and “news” differ only in case; they are one tag here." in report
    for tag in Tag.objects.all():
        assert client.get(f"/t/{tag.slug}/").status_code == 200
    assert client.get("/tags/").status_code == 200
    for post in Post.objects.all():
        assert client.get(post.get_absolute_url()).status_code == 200


def test_the_migration_repairs_unicode_tag_slugs_saved_before(client, ada) -> None:
    post = make_post(ada, "Tagged")
    post.tags.add("Café")
    Tag.objects.filter(name="Café").update(slug="café")
    Tag.objects.create(name="Cafe")  # holds "cafe" already
    migration = import_module("blog.migrations.0022_routable_tag_slugs")

    migration.repair_tag_slugs(apps, None)

    assert Tag.objects.get(name="Café").slug == "cafe-2"
    assert client.get("/t/cafe-2/").status_code == 200
    assert client.get(post.get_absolute_url()).status_code == 200


def test_post_slugs_from_unicode_names_are_ascii(tmp_path, client, sam) -> None:
    command(wxr(tmp_path, item("Καλημέρα", post_id="1", name="%ce%ba%ce%b1%ce%bb%ce%b7%ce%bc%ce%ad%cf%81%ce%b1")))

    post = Post.objects.get()
    assert post.slug == "kalemera"
    assert client.get(post.get_absolute_url()).status_code == 200


# --- WordPress's own rules (item 4) -------------------------------------------------


def test_protected_private_and_future_posts_keep_their_meaning(tmp_path, sam) -> None:
    path = wxr(tmp_path, item("Locked", post_id="1", password="enter"), item("Mine", post_id="2", status="private"),
               item("Later", post_id="3", status="future", date="2099-05-01 09:00:00"))  # fmt: skip

    report = command(path)

    assert Post.objects.get(title="Locked").status == Post.Status.DRAFT
    assert Post.objects.get(title="Mine").status == Post.Status.DRAFT
    later = Post.objects.get(title="Later")
    assert later.status == Post.Status.SCHEDULED and later.published_at.year == 2099
    assert "“Locked” was password-protected on WordPress; imported as a draft." in report
    assert "“Mine” was private on WordPress; imported as a draft." in report


def test_untitled_posts_are_named_by_their_first_words(tmp_path, sam) -> None:
    report = command(wxr(tmp_path, item("", "<p>The ferry ran late again this morning, as it does.</p>", post_id="9")))

    assert Post.objects.get().title == "The ferry ran late again this morning, as…"
    assert "Post 9 had no title" in report


def test_posts_without_an_id_are_told_apart_by_guid_and_repeated_ids_reported(tmp_path, sam) -> None:
    path = wxr(tmp_path, item("A", guid="https://old.example/?p=1"), item("B", guid="https://old.example/?p=2"),
               item("C", post_id="7", guid="https://old.example/?p=7"),
               item("D", post_id="7", guid="https://old.example/?p=8"))  # fmt: skip

    report = command(path)
    command(path)  # and again: nothing new

    assert sorted(Post.objects.values_list("title", flat=True)) == ["A", "B", "C", "D"]
    assert "Post id 7 appears twice in the file" in report


def test_two_sites_with_the_same_ids_import_side_by_side(tmp_path, sam) -> None:
    first = wxr(tmp_path, item("First site post", post_id="1"), name="one.xml")
    second = wxr(tmp_path, item("Second site post", post_id="1"), site="https://other.example", name="two.xml")

    command(first)
    command(second)
    command(first)

    assert sorted(Post.objects.values_list("title", flat=True)) == ["First site post", "Second site post"]
    assert set(SourceRecord.objects.values_list("site", flat=True)) == {"https://old.example", "https://other.example"}


def test_block_footnotes_from_post_meta_become_notes(tmp_path, sam) -> None:
    body = '<p>A claim.<sup data-fn="ab12" class="fn"><a href="#ab12" id="ab12-link">1</a></sup></p>'
    meta = (
        "<wp:postmeta><wp:meta_key>footnotes</wp:meta_key><wp:meta_value><![CDATA["
        + json.dumps([{"id": "ab12", "content": "The minutes, item 4."}])
        + "]]></wp:meta_value></wp:postmeta>"
    )

    command(wxr(tmp_path, item("Noted", "<!-- wp:paragraph -->" + body, post_id="1", meta=meta)))

    post = Post.objects.get()
    assert "A claim.[^1]" in post.body and "[^1]: The minutes, item 4." in post.body


def test_footnote_plugin_shortcodes_become_notes(tmp_path, sam) -> None:
    body = "The bridge opened[efn_note]On a Tuesday.[/efn_note] and closed[mfn]Rain.[/mfn] again."

    command(wxr(tmp_path, item("Notes", body, post_id="1")))

    post = Post.objects.get()
    assert "opened[^1] and closed[^2] again." in post.body
    assert "[^1]: On a Tuesday." in post.body and "[^2]: Rain." in post.body
    assert 'class="footnote"' in post.body_html


def test_an_old_sign_up_form_becomes_a_link_to_subscribe_here(tmp_path, sam) -> None:
    body = ('<div class="subscription-widget-wrap"><p>Get the next one.</p><form class="subscription-widget-subscribe">'
            '<input type="email" name="email"><input type="submit" value="Subscribe"></form></div>')  # fmt: skip

    report = command(wxr(tmp_path, item("Widget", "<!-- wp:html -->" + body, post_id="1")))

    assert '<a href="/subscribe/">Subscribe</a>' in Post.objects.get().body_html
    assert "“Widget”" not in report


def test_classic_posts_get_paragraphs_and_shortcodes_become_html(tmp_path, sam) -> None:
    body = (
        "First paragraph\nwith a break.\n\nSecond paragraph.\n<blockquote>Quoted.</blockquote>\n"
        '[caption id="x" width="300"]<img src="https://img.example/a.png" alt="A"> The harbour[/caption]\n\n'
        '[audio https://cdn.example/talk.mp3]\n\nhttps://www.youtube.com/watch?v=abc\n\n[playlist ids="1,2"]'
    )

    report = command(wxr(tmp_path, item("Classic", body, post_id="1")))

    html = Post.objects.get().body_html
    assert "<p>First paragraph<br>\nwith a break.</p>" in html and "<p>Second paragraph.</p>" in html
    assert "<blockquote>" in html
    assert "<figcaption>The harbour</figcaption>" in html
    assert 'href="https://cdn.example/talk.mp3"' in html
    assert 'href="https://www.youtube.com/watch?v=abc"' in html and "<iframe" not in html
    assert "[playlist" not in html and "“Classic”: a [playlist] could not be kept" in report


# --- Converter fidelity (item 3) ----------------------------------------------------


def test_the_converter_keeps_what_the_source_meant(tmp_path, sam) -> None:
    body = ("<ul><li>One<ul><li>Nested</li></ul></li><li>Two</li></ul>"
            "<blockquote><p>First quote.</p></blockquote><blockquote><p>Second quote.</p></blockquote>"
            "<p><del>old</del> <s>gone</s> H<sub>2</sub>O E=mc<sup>2</sup> <kbd>Ctrl</kbd> "
            '<abbr title="Port Authority">PA</abbr> <q>said</q></p>'
            '<figure><img src="https://img.example/b.png" alt="B"><figcaption>The quay</figcaption></figure>'
            '<iframe src="https://player.vimeo.com/video/1"></iframe><iframe src="https://ads.example/x"></iframe>'
            '<blockquote class="twitter-tweet"><p>A post</p><a href="https://twitter.com/a/status/1">link</a>'
            '</blockquote><script async src="https://platform.twitter.com/widgets.js"></script>'
            '<form action="https://old.example/s"><input name="e"></form>')  # fmt: skip

    report = command(wxr(tmp_path, item("Rich", "<!-- wp:html -->" + body, post_id="1")))

    html = Post.objects.get().body_html
    assert "<li>One<ul>\n<li>Nested</li>" in html
    assert html.count("<blockquote>") == 3
    assert "<del>old</del> <del>gone</del> H<sub>2</sub>O E=mc<sup>2</sup> <kbd>Ctrl</kbd>" in html
    assert '<abbr title="Port Authority">PA</abbr> “said”' in html and "~~" not in html
    assert "<figure><img" in html and "<figcaption>The quay</figcaption></figure>" in html
    assert 'href="https://player.vimeo.com/video/1"' in html and "ads.example" not in html
    assert 'href="https://twitter.com/a/status/1"' in html and "<script" not in html
    assert "“Rich”: an embedded <iframe> (ads.example) could not be kept" in report
    assert "“Rich”: a <form> could not be kept" in report


# --- Ghost (item 4) ------------------------------------------------------------------


def ghost_export(tmp_path, posts: list[dict]) -> str:
    path = tmp_path / "ghost.json"
    path.write_text(json.dumps({"db": [{"meta": {"version": "4.2.0"}, "data": {"posts": posts}}]}))
    return path


def test_ghost_url_placeholders_are_resolved_with_the_old_site_address(tmp_path, sam) -> None:
    html = '<p><a href="__GHOST_URL__/other-post/">Other</a> <img src="__GHOST_URL__/content/images/a.png"></p>'
    path = ghost_export(tmp_path, [{"id": "1", "title": "Linked", "slug": "linked", "html": html,
                                    "status": "published", "published_at": "2024-01-01T00:00:00.000Z"}])  # fmt: skip

    command(path, "--old-site-address", "https://blog.example.com/")

    body = Post.objects.get().body
    assert "__GHOST_URL__" not in body and "https://blog.example.com/other-post/" in body


def test_ghost_url_placeholders_without_an_address_are_reported(tmp_path, sam) -> None:
    path = ghost_export(tmp_path, [{"id": "1", "title": "Linked", "slug": "linked", "status": "draft",
                                    "html": '<p><a href="__GHOST_URL__/other/">Other</a></p>'}])  # fmt: skip

    report = command(path)

    assert "__GHOST_URL__" not in Post.objects.get().body and "--old-site-address" in report


def test_mobiledoc_posts_arrive_with_their_text_and_pages_are_named(tmp_path, sam) -> None:
    mobiledoc = {"version": "0.3.1", "markups": [["strong"], ["a", ["href", "__GHOST_URL__/welcome/"]]], "atoms": [],
                 "cards": [["markdown", {"markdown": "A *markdown* card."}],
                           ["image", {"src": "https://img.example/c.png", "caption": "Cap"}]],
                 "sections": [[1, "p", [[0, [0], 1, "Bold"], [0, [], 0, " and plain, "], [0, [1], 1, "introduction"]]],
                              [10, 0], [10, 1],
                              [3, "ul", [[[0, [], 0, "item"]]]]]}  # fmt: skip
    path = ghost_export(tmp_path, [
        {"id": "1", "title": "Old editor", "slug": "old", "mobiledoc": json.dumps(mobiledoc), "status": "draft"},
        {"id": "2", "title": "About us", "slug": "about", "type": "page", "html": "<p>Hi</p>", "status": "published"},
    ])  # fmt: skip

    report = command(path, "--old-site-address", "https://old.example")

    post = Post.objects.get()
    assert (
        '<strong>Bold</strong> and plain, <a href="https://old.example/welcome/"' in post.body_html
        and "<em>markdown</em> card" in post.body_html
    )
    assert "<li>item</li>" in post.body_html and "Cap" in post.body_html
    assert "1 Ghost page(s) were not imported (Dispatch has posts only): “About us”." in report


def test_lexical_posts_keep_formats_and_cards(tmp_path, sam) -> None:
    lexical = {"root": {"type": "root", "children": [
        {"type": "paragraph", "children": [
            {"type": "extended-text", "text": "gone", "format": 4}, {"type": "text", "text": " H"},
            {"type": "text", "text": "2", "format": 32}]},
        {"type": "image", "src": "https://img.example/d.png", "caption": "The quay"},
        {"type": "embed", "url": "https://www.youtube.com/watch?v=q"},
        {"type": "bookmark", "url": "https://ghost.org/", "metadata": {"title": "Ghost"}},
        {"type": "signup"},
    ]}}  # fmt: skip
    path = ghost_export(tmp_path, [{"id": "1", "title": "New editor", "slug": "new", "status": "draft",
                                    "lexical": json.dumps(lexical)}])  # fmt: skip

    report = command(path)

    html = Post.objects.get().body_html
    assert "<del>gone</del> H<sub>2</sub>" in html and "<figcaption>The quay</figcaption>" in html
    assert 'href="https://www.youtube.com/watch?v=q"' in html and '<a href="https://ghost.org/"' in html
    assert "“New editor”: a Ghost “signup” card could not be kept" in report


def test_a_ghost_members_csv_is_a_subscriber_list(tmp_path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at\n"
                    "a@example.com,A,,true,false,,2022-01-01T00:00:00.000Z\n"
                    "b@example.com,B,,false,true,,2022-01-01T00:00:00.000Z\n")  # fmt: skip

    report = command(path)

    assert Subscriber.objects.get(email="a@example.com").status == Subscriber.Status.ACTIVE
    assert Subscriber.objects.get(email="b@example.com").status == Subscriber.Status.UNSUBSCRIBED
    assert "1 members had a paid or complimentary plan on Ghost" in report


# --- Substack (items 1 and 4) -------------------------------------------------------


def substack(tmp_path, posts_csv: bytes, files: dict[str, bytes]) -> str:
    path = tmp_path / "substack.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("posts.csv", posts_csv)
        for name, data in files.items():
            archive.writestr(name, data)
    return path


POSTS_CSV = (b"post_id,post_date,is_published,type,audience,title,subtitle,podcast_url\n"
             b"1.ep,2024-01-01T00:00:00.000Z,true,podcast,everyone,Episode &amp; <em>one</em>,"
             b"&#x201C;Quoted&#x201D;,https://cdn.example/ep1.mp3\n")  # fmt: skip


def test_substack_titles_are_plain_text_decoded_once_and_podcast_audio_kept(tmp_path, sam) -> None:
    command(substack(tmp_path, POSTS_CSV, {"posts/1.ep.html": b"<p>Show notes.</p>"}))

    post = Post.objects.get()
    assert post.title == "Episode & one" and post.subtitle == "\u201cQuoted\u201d"
    assert 'href="https://cdn.example/ep1.mp3"' in post.body_html


def test_substack_buttons_lead_here_and_other_publications_links_stay(tmp_path, sam) -> None:
    body = (b'<p class="button-wrapper"><a class="button primary" href="https://news.example.org/subscribe?">'
            b"<span>Subscribe</span></a></p><p><a href=\"https://mine.substack.com/p/old/comments\">talk</a> and "
            b'<a href="https://other.substack.com/p/theirs/comments">theirs</a></p>')  # fmt: skip
    files = {"posts/1.ep.html": body, "email_list.mine.csv": b"email\n"}

    command(substack(tmp_path, POSTS_CSV, files))

    html = Post.objects.get().body_html
    assert 'href="/subscribe/"' in html and 'href="/p/old/#comments"' in html
    assert 'href="https://other.substack.com/p/theirs/comments"' in html


def test_a_repeated_substack_post_number_is_reported_and_both_kept(tmp_path, sam) -> None:
    posts_csv = (b"post_id,post_date,is_published,title\n1.first,2024-01-01T00:00:00.000Z,true,First\n"
                 b"1.second,2024-01-02T00:00:00.000Z,true,Second\n")  # fmt: skip

    report = command(substack(tmp_path, posts_csv, {"posts/1.first.html": b"<p>a</p>", "posts/1.second.html": b"b"}))

    assert sorted(Post.objects.values_list("title", flat=True)) == ["First", "Second"]
    assert "post number 1 appears twice" in report


def test_internationalised_addresses_are_kept_with_a_note(tmp_path, sam) -> None:
    email_list = "email,active_subscription,email_disabled,created_at\nömil@example.com,,false,\n".encode()
    report = command(substack(tmp_path, POSTS_CSV, {"posts/1.ep.html": b"<p>x</p>", "email_list.x.csv": email_list}))

    assert Subscriber.objects.get().email == "ömil@example.com"
    assert "ömil@example.com has letters beyond ASCII; kept" in report


def test_a_utf16_list_is_read(tmp_path, sam) -> None:
    email_list = "email,email_disabled\nana@example.com,false\n".encode("utf-16")
    command(substack(tmp_path, POSTS_CSV, {"posts/1.ep.html": b"<p>x</p>", "email_list.x.csv": email_list}))

    assert Subscriber.objects.get().email == "ana@example.com"


# --- Bad input (item 5) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"posts.csv": b"post_id,post_date,is_published,title\n1.a,2024-01-01,true,Caf\xe9\n"}, "posts.csv"),
        ({"posts.csv": POSTS_CSV, "posts/1.ep.html": b"<p>Caf\xe9</p>"}, "posts/1.ep.html"),
        ({"posts.csv": POSTS_CSV, "posts/1.ep.html": b"<p>x</p>", "email_list.x.csv": b"email\nb\xe9@x.com\n"},
         "email_list.x.csv"),
    ],
)  # fmt: skip
def test_text_that_is_not_utf8_is_refused_naming_the_file_and_the_fix(tmp_path, sam, files, named) -> None:
    path = tmp_path / "latin1.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_publication", str(path), stdout=out, stderr=io.StringIO())

    assert f"{named} is not UTF-8 text" in out.getvalue() and "CSV UTF-8" in out.getvalue()
    assert not Post.objects.exists() and not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "damage",
    [lambda raw: raw[: len(raw) // 2],  # cut short
     lambda raw: raw.replace(b'encoding="UTF-8"', b'encoding="x-klingon"'),  # an encoding nobody knows
     lambda raw: raw.replace("Caf\u00e9".encode(), b"Caf\xe9")],  # Latin-1 bytes in a file saying UTF-8
)  # fmt: skip
def test_a_damaged_wordpress_file_is_refused_with_what_to_do(tmp_path, sam, damage) -> None:
    path = wxr(tmp_path, item("Caf\u00e9", post_id="1"), item("Two", post_id="2"))
    path.write_bytes(damage(path.read_bytes()))
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_publication", str(path), stdout=out, stderr=io.StringIO())

    assert "The WordPress file is not well-formed XML" in out.getvalue() and "export it again" in out.getvalue()
    assert not Post.objects.exists()


def test_a_corrupt_member_is_refused_by_name(tmp_path, sam) -> None:
    path = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("posts.csv", POSTS_CSV)
        archive.writestr("posts/1.ep.html", b"<p>" + b"words " * 2000 + b"</p>")
    data = bytearray(path.read_bytes())
    start = data.index(b"posts/1.ep.html") + len("posts/1.ep.html")
    data[start + 10 : start + 40] = b"\x00" * 30  # damage the compressed body
    path.write_bytes(bytes(data))

    report = run_import(path, user=sam)

    assert "damaged or cut short" in report.refused and not Post.objects.exists()


def test_a_latin1_ghost_export_is_refused_with_a_hint(tmp_path, sam) -> None:
    path = tmp_path / "ghost.json"
    path.write_bytes('{"db": [{"meta": {"version": "5.0"}, "data": {"posts": [{"title": "Café"}]}}]}'.encode("latin-1"))

    report = run_import(path, user=sam)

    assert "The Ghost export is not UTF-8 text" in report.refused and "UTF-8" in report.refused


def test_the_desk_shows_the_encoding_message(client, ada, tmp_path, django_capture_on_commit_callbacks) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    path = tmp_path / "latin1.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("posts.csv", b"post_id,post_date,is_published,title\n1.a,2024-01-01,true,Caf\xe9\n")
    client.force_login(ada)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("blog:import_upload"), {"file": SimpleUploadedFile("s.zip", path.read_bytes())})

    page = client.get(response["Location"]).content.decode()
    assert "posts.csv is not UTF-8 text" in page and "CSV UTF-8" in page


def test_the_desk_offers_to_unsubscribe_those_missing(client, sam, substack_zip, tmp_path,
                                                      django_capture_on_commit_callbacks) -> None:  # fmt: skip
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from blog.models import ImportJob
    from tests.blog.imports.test_substack import newer_export

    run_import(substack_zip, user=sam)
    client.force_login(sam)
    newer = newer_export(substack_zip, tmp_path)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("blog:import_upload"), {
            "file": SimpleUploadedFile("newer.zip", newer.read_bytes()), "unsubscribe_missing": "on"})  # fmt: skip
    job = ImportJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "1 subscribers from an earlier import are not in this list and were unsubscribed" in page
    assert Subscriber.objects.get(email="kemal@example.com").status == Subscriber.Status.ACTIVE  # a dry run so far
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("blog:import_run", args=[job.pk]))

    assert Subscriber.objects.get(email="kemal@example.com").status == Subscriber.Status.UNSUBSCRIBED


def test_the_desk_takes_the_old_ghost_address(client, sam, tmp_path, django_capture_on_commit_callbacks) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from blog.models import ImportJob

    path = ghost_export(tmp_path, [{"id": "1", "title": "Linked", "slug": "linked", "status": "draft",
                                    "html": '<p><a href="__GHOST_URL__/other/">Other</a></p>'}])  # fmt: skip
    client.force_login(sam)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("blog:import_upload"), {"file": SimpleUploadedFile("g.json", path.read_bytes()),
                                                   "old_site": "https://blog.example.com"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("blog:import_run", args=[ImportJob.objects.get().pk]))

    assert "https://blog.example.com/other/" in Post.objects.get().body
