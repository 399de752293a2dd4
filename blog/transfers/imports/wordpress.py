"""WordPress's export file, WXR ("WordPress eXtended RSS", Tools → Export).

The format is what WordPress's own exporter writes (wp-admin/includes/export.php
in WordPress/WordPress, WXR_VERSION 1.2; 1.0 and 1.1 differ only in the
namespace): an RSS 2.0 channel with `wp:author` entries, then one `item` per
post with `wp:post_id`, `wp:post_name`, `wp:post_date(_gmt)`, `wp:status`,
`wp:post_type`, `content:encoded`, `excerpt:encoded`, `dc:creator`,
`category` elements (domain "category" or "post_tag") and `wp:comment`
entries (`wp:comment_id`, `_parent`, `_approved` 1/0/spam/trash, `_type`,
`_author`, `_author_email`, `_date_gmt`, `_content`)."""

import html as html_lib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from blog.models import Comment, Post
from blog.transfers.imports.archive import ImportRefused
from blog.transfers.imports.conversion import provider
from blog.transfers.imports.steps import CommentData, Importer, PostData

VERSIONS = {"1.0", "1.1", "1.2"}
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
COMMENT_STATES = {"1": Comment.Status.APPROVED, "0": Comment.Status.HELD, "spam": Comment.Status.SPAM,
                  "trash": Comment.Status.REMOVED}  # fmt: skip
BLOCK_TAG = re.compile(r"^<(p|div|h[1-6]|ul|ol|li|blockquote|table|figure|pre|hr|dl|address|section|iframe)[\s>/]",
                       re.I)  # fmt: skip
BLOCKS = "blockquote|ul|ol|table|pre|figure|h[1-6]|div|dl|hr|address|section"
BLOCK_OPEN = re.compile(rf"(<(?:{BLOCKS})[\s>/])", re.I)
BLOCK_CLOSE = re.compile(rf"(</(?:{BLOCKS})>)", re.I)
SHORTCODE = re.compile(r"\[(\w+)([^\]]*)\](?:(.*?)\[/\1\])?", re.S)
ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
FOOTNOTE_SHORTCODES = {"efn_note", "mfn", "ref", "footnote", "fn"}
STATUS_NOTES = {"private": "was private on WordPress", "pending": "was waiting for review on WordPress"}


def _channel(data: bytes) -> tuple[Element, str]:
    try:
        root = fromstring(data)
    except DefusedXmlException as error:
        raise ImportRefused(f"The XML file declares entities or a DTD, as XML bombs do; refused ({error}).") from error
    except LookupError as error:
        raise ImportRefused(
            f"The WordPress file is not well-formed XML: it names an encoding Python does not know ({error}). "
            'Save it as UTF-8, make its first line say encoding="UTF-8", or export it again.'
        ) from error
    except ParseError as error:
        raise ImportRefused(
            f"The WordPress file is not well-formed XML ({error}); if it was cut short, export it again "
            "(Tools → Export); if it names an encoding, it must be the one the file is written in."
        ) from error
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
    """WordPress's wpautop, as it runs when it shows a classic-editor post: blank lines part paragraphs,
    a single newline is a line break, block elements stand apart from the text around them, and a
    provider's address alone on its line is an embed (WordPress's auto-embed). Block-editor posts
    (with `<!-- wp:` comments) carry their own markup."""
    if "<!-- wp:" in html:
        return html
    html = BLOCK_OPEN.sub(r"\n\n\1", html.replace("\r\n", "\n"))
    html = BLOCK_CLOSE.sub(r"\1\n\n", html)
    chunks = []
    for part in re.split(r"\n\s*\n", html):
        part = part.strip()
        if not part:
            continue
        if re.fullmatch(r"https?://\S+", part) and provider(part):
            chunks.append(f'<iframe src="{html_lib.escape(part)}"></iframe>')
        elif BLOCK_TAG.match(part) or part.startswith("</") or (part.startswith("[") and part.endswith("]")):
            chunks.append(part)
        else:
            chunks.append("<p>" + re.sub(r"(?<!>)\n(?!<)", "<br>\n", part) + "</p>")
    return "\n".join(chunks)


def _attributes(text: str) -> dict[str, str]:
    return {m.group(1).lower(): next(v for v in m.groups()[1:] if v is not None) for m in ATTRIBUTE.finditer(text)}


def _shortcodes(html: str, gallery: Callable[[str], list[str]], dropped: list[str]) -> str:
    """The common shortcodes as the HTML WordPress would show; any other [name] is left as written.
    Footnote plugins' shortcodes ([efn_note], [mfn], [ref], [footnote]) become numbered notes."""
    notes: list[str] = []

    def one(match: re.Match[str]) -> str:
        name, attributes, inner = match.group(1).lower(), _attributes(match.group(2)), match.group(3) or ""
        if name in FOOTNOTE_SHORTCODES and inner.strip():
            notes.append(inner.strip())
            return f'<sup><a href="#wp-note-{len(notes)}">{len(notes)}</a></sup>'

        if name in ("caption", "wp_caption"):
            image = re.search(r"<img[^>]*>", inner)
            text = re.sub(r"<a[^>]*>\s*<img[^>]*>\s*</a>|<img[^>]*>", "", inner).strip() or attributes.get(
                "caption", ""
            )
            return f"<figure>{image.group(0) if image else ''}<figcaption>{text}</figcaption></figure>"
        if name == "gallery":
            images = gallery(attributes.get("ids", ""))
            if not images:
                dropped.append("a [gallery] whose images are not in the export")
            return "".join(f'<p><img src="{html_lib.escape(url)}" alt=""></p>' for url in images)
        if name in ("audio", "video"):
            named = (v for k, v in attributes.items() if k in ("src", "mp3", "m4a", "ogg", "wav", "mp4", "webm", "m4v"))
            bare = (
                word for word in [*match.group(2).split(), inner.strip()] if word.startswith(("http://", "https://"))
            )
            url = next(named, "") or next(bare, "")
            if not url:
                dropped.append(f"an [{name}] without a file address")
                return ""
            return f'<p><a href="{html_lib.escape(url)}">{name.title()}: {html_lib.escape(url)}</a></p>'
        if name == "embed":
            return f'<p><iframe src="{html_lib.escape(inner.strip())}"></iframe></p>'
        if name == "playlist":
            dropped.append("a [playlist]")
            return ""
        return match.group(0)

    html = SHORTCODE.sub(one, html)
    if notes:
        items = "".join(f'<li id="wp-note-{n}">{note}</li>' for n, note in enumerate(notes, start=1))
        html += f"<ol>{items}</ol>"
    return html


def _footnotes(html: str, meta: dict[str | None, str | None]) -> str:
    """Block-editor footnotes live in the `footnotes` post meta; the body holds only their markers."""
    try:
        notes = json.loads(meta.get("footnotes") or "[]")
    except ValueError:
        return html
    if not isinstance(notes, list) or not notes:
        return html
    items = "".join(f'<li id="{html_lib.escape(str(n.get("id", "")))}">{n.get("content", "")}</li>'
                    for n in notes if isinstance(n, dict))  # fmt: skip
    return html + f'<ol class="wp-block-footnotes">{items}</ol>'


class _Item:
    def __init__(self, item: Element, wp: str) -> None:
        self.item, self.wp = item, wp

    def __getitem__(self, name: str) -> str:
        return (self.item.findtext(self.wp + name) or "").strip()


def load(data: bytes, importer: Importer) -> None:
    channel, wp = _channel(data)
    site = (channel.findtext(wp + "base_site_url") or channel.findtext("link") or "").strip().rstrip("/")
    importer.site = site
    importer.link_rewriter = _link_rewriter(site)
    authors = {
        a.findtext(wp + "author_login", ""): (
            a.findtext(wp + "author_email", ""),
            a.findtext(wp + "author_display_name", ""),
        )
        for a in channel.findall(wp + "author")
    }
    every = channel.findall("item")
    items = [item for item in every if _Item(item, wp)["post_type"] == "post"]
    attachments = {_Item(item, wp)["post_id"]: (_Item(item, wp)["attachment_url"], _Item(item, wp)["post_parent"])
                   for item in every if _Item(item, wp)["post_type"] == "attachment"}  # fmt: skip
    _note_left_out(every, wp, importer)
    importer.total = len(items)
    if not importer.takes_site_data:
        importer.report.notes.append(
            "Comments and other authors' bylines are imported only by those who manage subscribers."
        )
    seen: set[str] = set()
    for item in items:
        post = _load_post(item, wp, authors, attachments, importer, seen)
        if post is not None and importer.takes_site_data:
            _load_comments(item, wp, post, importer)
        importer.step()


def _note_left_out(items: list[Element], wp: str, importer: Importer) -> None:
    """Pages are named (Dispatch has posts only); attachments and menu items only counted."""
    pages = [(i.findtext("title") or "").strip() or "(untitled)" for i in items if _Item(i, wp)["post_type"] == "page"]
    others = sum(1 for i in items if _Item(i, wp)["post_type"] not in ("post", "page", "attachment"))
    if pages:
        names = ", ".join(f"“{name}”" for name in pages[:20]) + (
            f" and {len(pages) - 20} more" if len(pages) > 20 else ""
        )
        were = "page was" if len(pages) == 1 else "pages were"
        importer.report.notes.append(f"{len(pages)} {were} not imported (Dispatch has posts only): {names}.")
    if others:
        importer.report.notes.append(f"{others} menu items and other site parts were left out; posts only.")


def _link_rewriter(site: str) -> Callable[[str], str]:
    """The old site's comment form and feed-subscription links lead to Dispatch's."""
    host = urlsplit(site).netloc.lower()

    def rewrite(href: str) -> str:
        parts = urlsplit(href)
        if not host or parts.netloc.lower() != host:
            return href
        if parts.path.endswith("/wp-comments-post.php"):
            return "#comments"
        if parts.path.rstrip("/").endswith(("/feed", "/subscribe", "/wp-login.php")) and "action=register" not in href:
            return "/subscribe/"
        return href

    return rewrite


def _source_id(fields: "_Item", item: Element, seen: set[str], importer: Importer) -> str:
    """wp:post_id, else the guid or link; an id seen twice in one file is reported and keyed by guid."""
    guid = (item.findtext("guid") or item.findtext("link") or "").strip()
    source_id = fields["post_id"] or guid
    if source_id in seen and guid and guid not in seen:
        importer.problem(f"Post id {source_id} appears twice in the file; the second (“{item.findtext('title')}”) "
                         "is told apart by its guid.")  # fmt: skip
        source_id = guid
    seen.add(source_id)
    return source_id


def _status(fields: "_Item", title: str, importer: Importer) -> str:
    status = fields["status"]
    if status == "publish" and fields["post_password"]:
        importer.problem(f"“{title}” was password-protected on WordPress; imported as a draft.")
        return Post.Status.DRAFT
    if status in STATUS_NOTES:
        importer.problem(f"“{title}” {STATUS_NOTES[status]}; imported as a draft.")
    if status == "future":
        return Post.Status.SCHEDULED
    return Post.Status.PUBLISHED if status == "publish" else Post.Status.DRAFT


def _load_post(
    item: Element,
    wp: str,
    authors: dict[str, tuple[str, str]],
    attachments: dict[str, tuple[str, str]],
    importer: Importer,
    seen: set[str],
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
    paths = [f"/?p={fields['post_id']}"] if fields["post_id"] else []
    link = urlsplit(item.findtext("link") or "").path
    if link and link != "/":
        paths.append(link if link.endswith("/") else link + "/")
    if local and slug:
        paths.append(f"/{local:%Y/%m/%d}/{slug}/")
    meta = {m.findtext(wp + "meta_key"): m.findtext(wp + "meta_value") for m in item.findall(wp + "postmeta")}
    tags = [c.text.strip() for c in item.findall("category") if c.text and c.get("nicename") != "uncategorized"]
    title = (item.findtext("title") or "").strip()
    post_id = fields["post_id"]

    def gallery(ids: str) -> list[str]:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        if wanted:
            return [attachments[i][0] for i in wanted if i in attachments and attachments[i][0]]
        return [url for url, parent in attachments.values() if parent == post_id and url]

    dropped: list[str] = []
    html = _footnotes(_shortcodes(_autop(item.findtext(CONTENT + "encoded") or ""), gallery, dropped), meta)
    for what in sorted(set(dropped)):
        importer.problem(f"“{title or post_id}”: {what} could not be kept and was left out.")
    return importer.save_post(
        PostData(
            source_id=_source_id(fields, item, seen, importer),
            title=title,
            html=html,
            author=author,
            slug=slug,
            status=_status(fields, title, importer),
            published_at=_date(fields["post_date_gmt"]) or local,
            tags=sorted(set(tags)),
            excerpt=(item.findtext(wp[:-1] + "excerpt/}encoded") or "").strip(),
            legacy_paths=sorted(set(paths)),
            cover_url=attachments.get(meta.get("_thumbnail_id") or "", ("", ""))[0],
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
