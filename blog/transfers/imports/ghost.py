"""Ghost's JSON export (Settings → Advanced → Import/Export → Export your content).

The format is Ghost's database tables as JSON, documented in Ghost's
"Developer Migration Docs" (docs.ghost.org/migration/custom): optionally
wrapped in {"db": [...]}, a `meta` object (`exported_on`, `version`) and a
`data` object with `posts` (id, title, slug, html or lexical or mobiledoc,
status, type, visibility, published_at, custom_excerpt), `tags`,
`posts_tags`, `users`, `posts_authors`; members exports add `members`
(email, name, status free/paid/comped, created_at, email_disabled) and
`members_newsletters`; sites with native comments add `comments`
(post_id, member_id, parent_id, html, status published/hidden/deleted)."""

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any, cast

import markdown as markdown_lib
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape

from blog.models import Comment, Post, Subscriber
from blog.transfers.imports.archive import ImportRefused
from blog.transfers.imports.conversion import decode_text
from blog.transfers.imports.steps import CommentData, Importer, PostData, SubscriberData

MAJOR_VERSIONS = {"2", "3", "4", "5", "6"}
COMMENT_STATES = {"published": Comment.Status.APPROVED, "hidden": Comment.Status.REMOVED,
                  "deleted": Comment.Status.REMOVED}  # fmt: skip
Row = dict[str, Any]
Table = list[Row]


def _data(raw: bytes) -> dict[str, Table]:
    text = decode_text(raw, "The Ghost export")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ImportRefused(
            f"The Ghost export is not valid JSON ({error}); if it was cut short, export it again from Ghost."
        ) from error
    if isinstance(document, dict) and isinstance(document.get("db"), list) and document["db"]:
        document = document["db"][0]
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise ImportRefused("This JSON file is not a Ghost export: it has no “data” object.")
    version = str((document.get("meta") or {}).get("version", ""))
    if version.split(".")[0] not in MAJOR_VERSIONS:
        raise ImportRefused(f"Ghost export version “{version}” is not one Dispatch reads (Ghost 2 to 6).")
    data = document["data"]
    if not isinstance(data.get("posts"), list):
        raise ImportRefused("This Ghost export has no list of posts.")
    for name, table in data.items():
        if not isinstance(table, list) or not all(isinstance(row, dict) for row in table):
            raise ImportRefused(f"The “{name}” table of this Ghost export is not a list of rows.")
    return cast(dict[str, Table], data)


def _date(value: object) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    when = parse_datetime(str(value).replace(" ", "T")) if value else None
    if when is not None and timezone.is_naive(when):
        when = timezone.make_aware(when, UTC)
    return when


GHOST_URL = "__GHOST_URL__"


def _site(data: dict[str, Table]) -> str:
    """The exporting site, for scoping source ids: its title (Ghost keeps its url in config, not the export)."""
    settings = {row.get("key"): row.get("value") for row in data.get("settings", [])}
    return str(settings.get("url") or settings.get("title") or "")[:200]


def load(raw: bytes, importer: Importer) -> None:
    data = _data(raw)
    importer.site = _site(data)
    every = data["posts"]
    posts = [p for p in every if p.get("type", "page" if p.get("page") else "post") == "post"]
    pages = [str(p.get("title") or p.get("slug")) for p in every if p not in posts]
    if pages:
        names = ", ".join(f"“{name}”" for name in pages[:20])
        importer.report.notes.append(
            f"{len(pages)} Ghost page(s) were not imported (Dispatch has posts only): {names}."
        )
    members = data.get("members", []) if importer.takes_site_data else []
    importer.total = len(posts) + len(members)
    if not importer.takes_site_data and (data.get("members") or data.get("comments")):
        importer.report.notes.append(
            "Members and comments are imported only by those who manage subscribers; they were left out."
        )
    users = {row["id"]: row for row in data.get("users", [])}
    tags = {row["id"]: row for row in data.get("tags", []) if row.get("visibility", "public") == "public"}
    post_tags: dict[str, list[str]] = {}
    for link in sorted(data.get("posts_tags", []), key=lambda r: r.get("sort_order", 0)):
        if link.get("tag_id") in tags:
            post_tags.setdefault(link["post_id"], []).append(tags[link["tag_id"]]["name"])
    authors = {link["post_id"]: link["author_id"] for link in data.get("posts_authors", [])
               if link.get("sort_order", 0) == 0}  # fmt: skip
    metas = {meta.get("post_id"): meta for meta in data.get("posts_meta", [])}
    saved = {}
    for row in posts:
        author_row = users.get(authors.get(row["id"]) or row.get("author_id"))
        post = _load_post(row, author_row, post_tags.get(row["id"], []), metas.get(row["id"], {}), importer)
        if post is not None:
            saved[row["id"]] = post
        importer.step()
    if importer.takes_site_data:
        _load_members(data, importer)
        _load_comments(data, saved, importer)


def _load_post(row: Row, author_row: Row | None, tags: list[str], meta: Row, importer: Importer) -> Post | None:
    if importer.takes_site_data and author_row:
        author = importer.person(author_row.get("email", ""), author_row.get("name", ""), author_row.get("slug", ""),
                                 author=True)  # fmt: skip
    else:
        author = importer.user or importer.person("", "ghost", "ghost", author=True)
    title = row.get("title") or ""
    visibility = row.get("visibility", "public")
    published = row.get("status") in ("published", "sent") and visibility == "public"
    if row.get("status") == "published" and visibility != "public":
        importer.problem(f"“{title}” was for {visibility} members only on Ghost; imported as a draft.")
    html, markdown = _body(row, importer)
    if not (html or markdown or "").strip():
        importer.problem(f"“{title}” has no body Dispatch can read (neither html, Lexical nor mobiledoc).")
    slug = row.get("slug") or ""
    return importer.save_post(
        PostData(
            source_id=str(row["id"]),
            title=title,
            html=html,
            markdown=markdown,
            author=author,
            slug=slug,
            status=Post.Status.PUBLISHED if published else Post.Status.DRAFT,
            published_at=_date(row.get("published_at")),
            tags=tags,
            excerpt=row.get("custom_excerpt") or "",
            legacy_paths=[f"/{slug}/"] if slug else [],
            cover_url=row.get("feature_image") or "",
            cover_alt=meta.get("feature_image_alt") or "",
        )
    )


def _body(row: Row, importer: Importer) -> tuple[str, str | None]:
    """(HTML, Markdown) with __GHOST_URL__ resolved: Ghost's rendered html when the export has it,
    else its editor's document."""
    html, markdown = _editor_body(row, importer)
    if GHOST_URL in html or GHOST_URL in (markdown or ""):
        old = importer.old_site.rstrip("/")
        if not old and GHOST_URL not in importer.report.notes[-1:]:
            importer.problem(
                f"“{row.get('title')}” links to its own site through {GHOST_URL}; without the old site address "
                "(--old-site-address) those links are kept as addresses on this site."
            )
        html, markdown = html.replace(GHOST_URL, old), markdown.replace(GHOST_URL, old) if markdown else markdown
    return html, markdown


def _editor_body(row: Row, importer: Importer) -> tuple[str, str | None]:
    if row.get("html"):
        return row["html"], None
    for name in ("lexical", "mobiledoc"):
        if row.get(name):
            try:
                document = json.loads(row[name]) if isinstance(row[name], str) else row[name]
            except ValueError:
                continue
            if name == "mobiledoc":
                return _mobiledoc_html(document, str(row.get("title") or ""), importer), None
            unknown: list[str] = []
            html = _lexical_html(document.get("root", document), unknown)
            for kind in sorted(set(unknown)):
                importer.problem(f"“{row.get('title')}”: a Ghost “{kind}” card could not be kept and was left out.")
            return html, None
    return "", None


LEXICAL_TAGS = {"paragraph": "p", "quote": "blockquote", "extended-quote": "blockquote", "listitem": "li",
                "aside": "blockquote", "callout": "blockquote"}  # fmt: skip
# Lexical's text format bits, innermost first.
LEXICAL_FORMATS = [(16, "code"), (32, "sub"), (64, "sup"), (4, "del"), (2, "em"), (1, "strong")]


def _lexical_text(node: Row) -> str:
    text = str(escape(str(node.get("text", ""))))
    fmt = int(node.get("format") or 0)
    for bit, tag in LEXICAL_FORMATS:
        if fmt & bit:
            text = f"<{tag}>{text}</{tag}>"
    return text


def _lexical_card(kind: str, node: Row) -> str | None:
    """Ghost's Lexical cards that carry content; None for a kind this does not know."""
    url = escape(str(node.get("src") or node.get("url") or node.get("buttonUrl") or ""))
    if kind == "image":
        caption = node.get("caption") or ""
        img = f'<img src="{url}" alt="{escape(node.get("altText") or node.get("alt") or "")}">'
        return f"<figure>{img}<figcaption>{caption}</figcaption></figure>" if caption else img
    if kind in ("html", "markdown"):
        text = str(node.get("html") or node.get("markdown") or "")
        return text if kind == "html" else markdown_lib.markdown(text, extensions=["footnotes", "tables"])
    if kind == "codeblock":
        return f"<pre><code>{escape(node.get('code', ''))}</code></pre>"
    if kind == "horizontalrule":
        return "<hr>"
    if kind in ("embed", "audio", "video"):
        return f'<iframe src="{url}"></iframe>' if kind == "embed" else f'<{kind} src="{url}"></{kind}>'
    if kind in ("bookmark", "button", "file"):
        label = (node.get("metadata") or {}).get("title") or node.get("buttonText") or node.get("fileName") or url
        return f'<p><a href="{url}">{escape(label)}</a></p>'
    if kind == "gallery":
        return "".join(f'<img src="{escape(i.get("src", ""))}" alt="">' for i in node.get("images", []))
    if kind == "toggle":
        return f"<h3>{node.get('heading', '')}</h3>{node.get('content', '')}"
    if kind == "callout":
        return f"<blockquote>{node.get('calloutText', '')}</blockquote>"
    return None


def _lexical_html(node: Row, unknown: list[str] | None = None) -> str:
    """Lexical (Ghost 5+'s editor): text with its formats, headings, quotes, lists, links, and the cards;
    a card kind this does not know is named in `unknown`."""
    unknown = [] if unknown is None else unknown
    kind = str(node.get("type") or "")
    inner = "".join(_lexical_html(child, unknown) for child in node.get("children", []))
    if kind in ("text", "extended-text"):
        return _lexical_text(node)
    if kind == "link":
        return f'<a href="{escape(node.get("url", ""))}">{inner}</a>'
    if kind in ("heading", "extended-heading"):
        return f"<{node.get('tag', 'h2')}>{inner}</{node.get('tag', 'h2')}>"
    if kind == "list":
        tag = "ol" if node.get("listType") == "number" else "ul"
        return f"<{tag}>{inner}</{tag}>"
    if kind == "linebreak":
        return "<br>"
    if kind in LEXICAL_TAGS and node.get("children") is not None:
        return f"<{LEXICAL_TAGS[kind]}>{inner}</{LEXICAL_TAGS[kind]}>"
    card = _lexical_card(kind, node)
    if card is not None:
        return card
    if kind not in ("root", "") and not node.get("children"):
        unknown.append(kind)
    return inner


MOBILEDOC_CARDS = {"image", "markdown", "card-markdown", "html", "hr", "code", "embed", "bookmark"}


def _mobiledoc_html(document: Row, title: str, importer: Importer) -> str:
    """Ghost 1-4's mobiledoc (version 0.3): markup sections of text markers, lists, and cards."""
    markups = [_markup(m) for m in document.get("markups", [])]
    cards = document.get("cards", [])
    parts = []
    for section in document.get("sections", []):
        kind = section[0] if section else None
        if kind == 1:
            parts.append(f"<{section[1]}>{_markers(section[2], markups)}</{section[1]}>")
        elif kind == 3:
            items = "".join(f"<li>{_markers(item, markups)}</li>" for item in section[2])
            parts.append(f"<{section[1]}>{items}</{section[1]}>")
        elif kind == 10 and section[1] < len(cards):
            parts.append(_card(*cards[section[1]], title=title, importer=importer))
    return "".join(parts)


def _markup(markup: object) -> tuple[str, str]:
    """A mobiledoc markup, ["a", ["href", "…"]], as (tag, attributes)."""
    if not isinstance(markup, list) or not markup:
        return "span", ""
    pairs = markup[1] if len(markup) > 1 and isinstance(markup[1], list) else []
    attributes = "".join(f' {escape(k)}="{escape(v)}"' for k, v in zip(pairs[::2], pairs[1::2], strict=False))
    return str(markup[0]), attributes


def _markers(markers: list[list[Any]], markups: list[tuple[str, str]]) -> str:
    out, open_tags = [], []
    for marker in markers:
        opens, closes, text = marker[1], marker[2], marker[3] if len(marker) > 3 else ""
        for index in opens:
            tag, attributes = markups[index] if index < len(markups) else ("span", "")
            open_tags.append(tag)
            out.append(f"<{tag}{attributes}>")
        out.append(escape(text) if marker[0] == 0 else "")
        for _ in range(closes):
            out.append(f"</{open_tags.pop()}>" if open_tags else "")
    return "".join(out)


def _card(name: str, payload: Row, *, title: str, importer: Importer) -> str:
    if name in ("markdown", "card-markdown"):
        return markdown_lib.markdown(str(payload.get("markdown", "")), extensions=["footnotes", "tables"])
    if name == "html":
        return str(payload.get("html", ""))
    if name == "image":
        caption = payload.get("caption") or ""
        img = f'<img src="{escape(payload.get("src", ""))}" alt="{escape(payload.get("alt", ""))}">'
        return f"<figure>{img}<figcaption>{caption}</figcaption></figure>" if caption else img
    if name == "hr":
        return "<hr>"
    if name == "code":
        code = f"<pre><code>{escape(payload.get('code', ''))}</code></pre>"
        caption = payload.get("caption") or ""
        return f"<figure>{code}<figcaption>{caption}</figcaption></figure>" if caption else code
    if name in ("embed", "bookmark") and payload.get("url"):
        label = (payload.get("metadata") or {}).get("title") or payload["url"]
        return f'<p><a href="{escape(payload["url"])}">{escape(label)}</a></p>'
    importer.problem(f"“{title}”: a Ghost “{name}” card could not be kept and was left out.")
    return ""


def load_members_csv(raw: bytes, name: str, importer: Importer) -> None:
    """Ghost's members CSV (Members → Export, or the list Ghost imports): email, name, note,
    subscribed_to_emails (or subscribed), complimentary_plan, stripe_customer_id, labels, created_at."""
    reader = csv.DictReader(io.StringIO(decode_text(raw, name), newline=""))
    if "email" not in (reader.fieldnames or []):
        raise ImportRefused(f"{name} is not a list of members: it has no “email” column.")
    if not importer.takes_site_data:
        raise ImportRefused("Subscriber lists are imported only by those who manage subscribers.")
    rows, paid = [], 0
    try:
        for row in reader:
            subscribed = (row.get("subscribed_to_emails") or row.get("subscribed") or "true").strip().lower()
            if (row.get("complimentary_plan") or "").lower() == "true" or (row.get("stripe_customer_id") or "").strip():
                paid += 1
            status = Subscriber.Status.UNSUBSCRIBED if subscribed == "false" else Subscriber.Status.ACTIVE
            rows.append(SubscriberData(line=reader.line_num, email=row.get("email") or "", status=status,
                                       created_at=_date(row.get("created_at"))))  # fmt: skip
    except csv.Error as error:
        raise ImportRefused(f"{name} cannot be read past line {reader.line_num}: {error}.") from error
    importer.total = len(rows)
    importer.save_subscribers(rows, f"imported from Ghost {importer.now:%Y-%m-%d}", leavers_from="imported from Ghost")
    if paid:
        importer.report.notes.append(
            f"{paid} members had a paid or complimentary plan on Ghost; plans are not imported."
        )


def _load_members(data: dict[str, Table], importer: Importer) -> None:
    newsletters = {link.get("member_id") for link in data.get("members_newsletters", [])}
    has_newsletters = "members_newsletters" in data
    paid = sum(1 for m in data.get("members", []) if m.get("status") in ("paid", "comped"))
    rows = []
    for line, member in enumerate(data.get("members", []), start=1):
        subscribed = member["id"] in newsletters if has_newsletters else member.get("subscribed", True)
        if member.get("email_disabled"):
            status = Subscriber.Status.BOUNCED
        else:
            status = Subscriber.Status.ACTIVE if subscribed else Subscriber.Status.UNSUBSCRIBED
        rows.append(SubscriberData(line=line, email=member.get("email") or "", status=status,
                                   created_at=_date(member.get("created_at"))))  # fmt: skip
    importer.save_subscribers(rows, f"imported from Ghost {importer.now:%Y-%m-%d}", leavers_from="imported from Ghost")
    if paid:
        importer.report.notes.append(
            f"{paid} members had a paid or complimentary plan on Ghost; plans are not imported."
        )


def _load_comments(data: dict[str, Table], posts: dict[str, Post], importer: Importer) -> None:
    members = {m["id"]: m for m in data.get("members", [])}
    for row in sorted(data.get("comments", []), key=lambda r: str(r.get("created_at", ""))):
        post = posts.get(str(row.get("post_id")))
        member = members.get(str(row.get("member_id")), {})
        if post is None:
            importer.problem(f"Comment {row.get('id')} belongs to a post that was not imported; skipped.")
            continue
        importer.save_comment(
            CommentData(
                source_id=str(row["id"]),
                post=post,
                author=importer.person(member.get("email", ""), member.get("name") or "Member", member.get("name", "")),
                html=row.get("html") or "",
                status=COMMENT_STATES.get(row.get("status", "published"), Comment.Status.APPROVED),
                created_at=_date(row.get("created_at")),
                reply_to_source_id=str(row.get("parent_id") or ""),
            )
        )
