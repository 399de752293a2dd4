"""Markdown to safe HTML: the one renderer for posts and comments.

Python-Markdown produces the HTML, then bleach keeps only an explicit
allow-list. Raw HTML typed by a writer is stripped to its text. No raw-text
element (script, style, textarea, ...), no svg or math, no style or event
attributes, and only http(s)/mailto URLs survive. Called once, at save.
"""

import html as html_lib
import re
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import bleach
import html2text
import markdown
from bleach.linkifier import LinkifyFilter
from django.conf import settings
from django.utils.html import strip_tags

INLINE_TAGS = {"a", "abbr", "b", "br", "code", "del", "em", "i", "s", "strong", "sub", "sup", "kbd"}
BLOCK_TAGS = {"blockquote", "p", "pre", "ul", "ol", "li", "hr", "div", "span"}
COMMENT_TAGS = INLINE_TAGS | BLOCK_TAGS
POST_TAGS = COMMENT_TAGS | {
    "h1", "h2", "h3", "h4", "h5", "h6",
    "img", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd",
}  # fmt: skip
ATTRIBUTES = {
    "a": ["href", "title", "class", "rel"],
    "abbr": ["title"],
    "img": ["src", "alt", "title", "width", "height"],
    "th": ["align"],
    "td": ["align"],
    "div": ["class"],
    "span": ["class"],
    "code": ["class"],
    "sup": ["id"],
    "li": ["id"],
    "ol": ["start"],
    **{f"h{n}": ["id"] for n in range(1, 7)},
}
PROTOCOLS = {"http", "https", "mailto"}
FOOTNOTE_REF = re.compile(r"<sup[^>]*>.*?</sup>", re.S)

POST_EXTENSIONS = [
    "footnotes", "tables", "fenced_code", "codehilite", "smarty", "toc", "sane_lists", "abbr", "def_list",
]  # fmt: skip
COMMENT_EXTENSIONS = ["fenced_code", "smarty", "sane_lists"]
EXTENSION_CONFIGS: dict[str, dict[str, Any]] = {
    "codehilite": {"guess_lang": False, "css_class": "highlight"},
    "toc": {"permalink": "#", "permalink_title": "Link to this section"},
}


def _is_external(href: str) -> bool:
    parts = urlsplit(href)
    return bool(parts.netloc) and parts.netloc != urlsplit(settings.SITE_URL).netloc


LinkAttributes = dict[tuple[str | None, str], str]


def _mark_external_links(attrs: LinkAttributes, new: bool = False, *, rel: str) -> LinkAttributes:
    href = attrs.get((None, "href"), "")
    if _is_external(href):
        attrs[(None, "rel")] = rel
    else:
        attrs.pop((None, "rel"), None)
    return attrs


def render_markdown(source: str, *, comment: bool = False) -> str:
    """Render Markdown to HTML that is safe to show to any reader.

    Comments get a smaller language (no headings, images or tables) and
    their links are marked as user-generated content."""
    md = markdown.Markdown(
        extensions=COMMENT_EXTENSIONS if comment else POST_EXTENSIONS,
        extension_configs=EXTENSION_CONFIGS,
    )
    html = md.convert(source)
    rel = "nofollow ugc noopener" if comment else "nofollow noopener"
    cleaner = bleach.Cleaner(
        tags=COMMENT_TAGS if comment else POST_TAGS,
        attributes=ATTRIBUTES,
        protocols=PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[partial(_mark_external_links, rel=rel)], skip_tags={"pre", "code"})],
    )
    return cleaner.clean(html)


def excerpt_from_html(html: str, limit: int = 280) -> str:
    """Plain text of the first paragraph, cut at a word boundary."""
    start = html.find("<p>")
    end = html.find("</p>", start)
    if start == -1:
        return ""
    # The HTML is already sanitised: stripping tags is enough, and cheap.
    # Footnote markers (<sup>1</sup>) would read as stray digits.
    paragraph = FOOTNOTE_REF.sub("", html[start:end])
    text = " ".join(html_lib.unescape(strip_tags(paragraph)).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


# --- Plain text, for the text part of e-mails -------------------------------

_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)
_FOOTNOTE_REF = re.compile(r'<sup id="fnref\d*:[^"]*"><a class="footnote-ref" href="#fn:[^"]*">(\d+)</a></sup>')
_BACKREF = re.compile(r'(?:&#160;|\xa0)?<a class="footnote-backref"[^>]*>.*?</a>', re.S)
_FOOTNOTES = re.compile(r'<div class="footnote">.*?<ol>(.*?)</ol>\s*</div>', re.S)
_FOOTNOTE_ITEM = re.compile(r'<li id="fn:[^"]*">\s*(.*?)\s*</li>', re.S)
_LINK = re.compile(r'<a [^>]*?href="([^"]*)"[^>]*>(.*?)</a>', re.S)
_IMAGE = re.compile(r'<img [^>]*?alt="([^"]*)"[^>]*>')
_TAG = re.compile(r"<[^>]+>")


def plain_text(html: str, site_url: str = "") -> str:
    """Readable plain text of rendered HTML (the text part of a newsletter):
    footnotes as numbered references [1] listed under "Notes", links as
    "text (URL)", images as their description; no Markdown marks."""

    def link(match: re.Match[str]) -> str:
        url, text = match.group(1), match.group(2)
        url = site_url + url if url.startswith("/") else url
        shown = _TAG.sub("", text).strip()
        return url if shown in (url, url.removeprefix("mailto:"), "") else f"{text} ({url})"

    def footnotes(match: re.Match[str]) -> str:
        items = _FOOTNOTE_ITEM.findall(match.group(1))
        notes = "".join(f"<p>[{n}] {re.sub(r'</?p>', ' ', item).strip()}</p>" for n, item in enumerate(items, 1))
        return f"<p>Notes</p>{notes}"

    html = _HEADERLINK.sub("", html)
    html = _BACKREF.sub("", html)
    html = _FOOTNOTE_REF.sub(r"[\1]", html)
    html = _FOOTNOTES.sub(footnotes, html)
    html = _LINK.sub(link, html)
    html = _IMAGE.sub(lambda m: f"[Image: {m.group(1)}]" if m.group(1) else "[Image]", html)
    converter = html2text.HTML2Text()
    converter.ignore_links = converter.ignore_images = converter.ignore_emphasis = True
    converter.unicode_snob = True
    converter.body_width = 78
    converter.mark_code = False
    return converter.handle(html).strip() + "\n"
