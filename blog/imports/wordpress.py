"""WordPress's export file, WXR ("WordPress eXtended RSS", Tools → Export).

The format is what WordPress's own exporter writes (wp-admin/includes/export.php
in WordPress/WordPress, WXR_VERSION 1.2; 1.0 and 1.1 differ only in the
namespace): an RSS 2.0 channel with `wp:author` entries, then one `item` per
post with `wp:post_id`, `wp:post_name`, `wp:post_date(_gmt)`, `wp:status`,
`wp:post_type`, `content:encoded`, `excerpt:encoded`, `dc:creator`,
`category` elements (domain "category" or "post_tag") and `wp:comment`
entries (`wp:comment_id`, `_parent`, `_approved` 1/0/spam/trash, `_type`,
`_author`, `_author_email`, `_date_gmt`, `_content`)."""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from blog.imports.archive import ImportRefused
from blog.imports.steps import CommentData, Importer, PostData
from blog.models import Comment, Post

VERSIONS = {"1.0", "1.1", "1.2"}
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
COMMENT_STATES = {"1": Comment.Status.APPROVED, "0": Comment.Status.HELD, "spam": Comment.Status.SPAM,
                  "trash": Comment.Status.REMOVED}  # fmt: skip
BLOCK_TAG = re.compile(r"<(p|div|h[1-6]|ul|ol|blockquote|table|figure|pre)[\s>]", re.I)


def _channel(data: bytes) -> tuple[Element, str]:
    try:
        root = fromstring(data)
    except DefusedXmlException as error:
        raise ImportRefused(f"The XML file declares entities or a DTD, as XML bombs do; refused ({error}).") from error
    except ParseError as error:
        raise ImportRefused(f"The WordPress file is not well-formed XML ({error}).") from error
    channel = root.find("channel") if root.tag == "rss" else None
    children = list(channel) if channel is not None else []
    version = next((child for child in children if child.tag.endswith("}wxr_version")), None)
    if channel is None or version is None:
        raise ImportRefused("This XML file is not a WordPress export (WXR): it has no rss/channel/wp:wxr_version.")
    if (version.text or "").strip() not in VERSIONS:
        raise ImportRefused(f"WXR version {version.text} is not one Dispatch reads (1.0 to 1.2).")
    return channel, version.tag.removesuffix("wxr_version")


def _date(value: str | None) -> datetime | None:
    if not value or value.startswith("0000"):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _autop(html: str) -> str:
    """Classic-editor posts keep paragraphs as blank lines (WordPress adds <p> when it shows them)."""
    if BLOCK_TAG.search(html):
        return html
    return "".join(f"<p>{part.strip()}</p>" for part in re.split(r"\n\s*\n", html) if part.strip())


class _Item:
    def __init__(self, item: Element, wp: str) -> None:
        self.item, self.wp = item, wp

    def __getitem__(self, name: str) -> str:
        return (self.item.findtext(self.wp + name) or "").strip()


def load(data: bytes, importer: Importer) -> None:
    channel, wp = _channel(data)
    authors = {
        a.findtext(wp + "author_login", ""): (
            a.findtext(wp + "author_email", ""),
            a.findtext(wp + "author_display_name", ""),
        )
        for a in channel.findall(wp + "author")
    }
    items = [item for item in channel.findall("item") if _Item(item, wp)["post_type"] == "post"]
    attachments = {_Item(item, wp)["post_id"]: _Item(item, wp)["attachment_url"] for item in channel.findall("item")
                   if _Item(item, wp)["post_type"] == "attachment"}  # fmt: skip
    skipped = len(channel.findall("item")) - len(items)
    if skipped:
        importer.report.notes.append(f"{skipped} pages, attachments and menu items were left out; posts only.")
    importer.total = len(items)
    if not importer.takes_site_data:
        importer.report.notes.append(
            "Comments and other authors' bylines are imported only by those who manage subscribers."
        )
    for item in items:
        post = _load_post(item, wp, authors, attachments, importer)
        if post is not None and importer.takes_site_data:
            _load_comments(item, wp, post, importer)
        importer.step()


def _load_post(
    item: Element, wp: str, authors: dict[str, tuple[str, str]], attachments: dict[str, str], importer: Importer
) -> Post | None:
    fields = _Item(item, wp)
    login = (item.findtext(DC + "creator") or "").strip()
    if importer.takes_site_data and login:
        email, name = authors.get(login, ("", login))
        author = importer.person(email, name or login, login, author=True)
    else:
        author = importer.user or importer.person("", login or "wordpress", login, author=True)
    slug = fields["post_name"]
    local = _date(fields["post_date"])
    paths = [f"/?p={fields['post_id']}"]
    link = urlsplit(item.findtext("link") or "").path
    if link and link != "/":
        paths.append(link if link.endswith("/") else link + "/")
    if local and slug:
        paths.append(f"/{local:%Y/%m/%d}/{slug}/")
    meta = {m.findtext(wp + "meta_key"): m.findtext(wp + "meta_value") for m in item.findall(wp + "postmeta")}
    tags = [c.text.strip() for c in item.findall("category") if c.text and c.get("nicename") != "uncategorized"]
    return importer.save_post(
        PostData(
            source_id=fields["post_id"],
            title=(item.findtext("title") or "").strip(),
            html=_autop(item.findtext(CONTENT + "encoded") or ""),
            author=author,
            slug=slug,
            status=Post.Status.PUBLISHED if fields["status"] == "publish" else Post.Status.DRAFT,
            published_at=_date(fields["post_date_gmt"]) or local,
            tags=sorted(set(tags)),
            excerpt=(item.findtext(wp[:-1] + "excerpt/}encoded") or "").strip(),
            legacy_paths=sorted(set(paths)),
            cover_url=attachments.get(meta.get("_thumbnail_id") or "", ""),
        )
    )


def _load_comments(item: Element, wp: str, post: Post, importer: Importer) -> None:
    comments = sorted(item.findall(wp + "comment"), key=lambda c: int(_Item(c, wp)["comment_id"] or 0))
    for element in comments:
        comment = _Item(element, wp)
        if comment["comment_type"] not in ("", "comment"):
            continue  # pingbacks and trackbacks
        status = COMMENT_STATES.get(comment["comment_approved"])
        if status is None:
            importer.problem(f"Comment {comment['comment_id']} has the unknown state “{comment['comment_approved']}”.")
            continue
        name = comment["comment_author"] or "Anonymous"
        importer.save_comment(
            CommentData(
                source_id=comment["comment_id"],
                post=post,
                author=importer.person(comment["comment_author_email"], name, name),
                html=_autop(comment["comment_content"]),
                status=status,
                created_at=_date(comment["comment_date_gmt"]) or _date(comment["comment_date"]),
                reply_to_source_id="" if comment["comment_parent"] in ("", "0") else comment["comment_parent"],
            )
        )
