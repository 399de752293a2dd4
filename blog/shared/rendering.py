"""Markdown to safe HTML: the one renderer for posts and comments.

Python-Markdown produces the HTML, then bleach keeps only an explicit
allow-list. Raw HTML typed by a writer is stripped to its text. No raw-text
element (script, style, textarea, ...), no svg or math, no style or event
attributes, and only http(s)/mailto URLs survive. Called once, at save.

The page around the HTML is ours: comments and re-stack notes keep no class
or id (a reader's `class="badge"` would fake the author badge, `id="comment-12"`
would take the anchor our e-mails link to); posts keep only the classes the
renderer itself draws, and every id in them starts with ID_PREFIX, which no
template uses.
"""

import html as html_lib
import re
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import bleach
import html2text
import markdown
from bleach.linkifier import LinkifyFilter
from django.conf import settings
from django.utils.html import strip_tags
from pygments.token import STANDARD_TYPES

Token = dict[str, Any]  # html5lib's: {"type": "StartTag", "name": "a", "data": {(None, "href"): "..."}}
if TYPE_CHECKING:  # bleach's stubs name html5lib's Filter; bleach runs its vendored copy
    from html5lib.filters.base import Filter

    TokenFilter = Filter[Token]
else:
    from bleach.html5lib_shim import Filter as TokenFilter

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
COMMENT_ATTRIBUTES = {tag: [name for name in names if name not in ("class", "id")] for tag, names in ATTRIBUTES.items()}
# The classes Python-Markdown and Pygments put on a post; any other class is dropped.
RENDERER_CLASSES = {
    "a": {"footnote-ref", "footnote-backref", "headerlink"},
    "div": {"highlight", "footnote"},
    "span": {name for name in STANDARD_TYPES.values() if name} | {"hll"},
    "code": set(),
}
ID_PREFIX = "md-"
C0_AND_SPACE = "".join(chr(code) for code in range(33))
PROTOCOLS = {"http", "https", "mailto"}
FOOTNOTE_REF = re.compile(r"<sup[^>]*>.*?</sup>", re.S)
BLOCK_BOUNDARY = re.compile(r"</?(?:p|li|h[1-6]|blockquote|div|pre|tr|td|th|dd|dt|figcaption|br|hr)\b")
HEADER_LINK = re.compile(r"<a [^>]*class=\"(?:headerlink|footnote-backref)\"[^>]*>.*?</a>", re.S)
LINK_HREF = re.compile(r"<a\s[^>]*?href=\"([^\"]*)\"")
ANCHOR = re.compile(r"<a\s.*?</a>", re.S)
BARE_ADDRESS = re.compile(r"https?://|www\.", re.IGNORECASE)

POST_EXTENSIONS = [
    "footnotes", "tables", "fenced_code", "codehilite", "smarty", "toc", "sane_lists", "abbr", "def_list",
]  # fmt: skip
COMMENT_EXTENSIONS = ["fenced_code", "smarty", "sane_lists"]
EXTENSION_CONFIGS: dict[str, dict[str, Any]] = {
    "codehilite": {"guess_lang": False, "css_class": "highlight"},
    "toc": {"permalink": "#", "permalink_title": "Link to this section"},
}


def _as_browser_reads(href: str) -> str:
    """The URL a browser follows: tabs and newlines dropped, spaces and controls
    trimmed, and backslashes read as slashes (so `/\\host` is `//host`)."""
    href = re.sub(r"[\t\n\r]", "", href).strip(C0_AND_SPACE)
    return href.replace("\\", "/")


def is_external(href: str) -> bool:
    """Does this link leave the site? Anything with a host other than ours,
    or a scheme (mailto:, ...) does; paths and fragments do not."""
    parts = urlsplit(_as_browser_reads(href))
    if parts.netloc:
        return parts.netloc.lower() != urlsplit(str(settings.SITE_URL)).netloc.lower()
    return bool(parts.scheme)


def external_links(html: str) -> list[str]:
    """The href of every link in rendered HTML that leaves the site."""
    return [href for href in LINK_HREF.findall(html) if is_external(html_lib.unescape(href))]


def link_count(html: str) -> int:
    """Links a reader could follow out of rendered HTML: anchors to other
    hosts, and web addresses left as text (a top-level domain the linkifier
    does not know stays text, but is still copied into an address bar)."""
    outside_anchors = strip_tags(ANCHOR.sub(" ", html))
    return len(external_links(html)) + len(BARE_ADDRESS.findall(html_lib.unescape(outside_anchors)))


LinkAttributes = dict[tuple[str | None, str], str]


def _mark_external_links(attrs: LinkAttributes, new: bool = False, *, rel: str) -> LinkAttributes:
    href = html_lib.unescape(attrs.get((None, "href"), ""))  # bleach keeps character references
    if is_external(href):
        attrs[(None, "rel")] = rel
    else:
        attrs.pop((None, "rel"), None)
    return attrs


class RendererAttributesFilter(TokenFilter):
    """Posts: drop classes the renderer does not draw; prefix every id, and the
    in-page links that point at one, with ID_PREFIX."""

    def __iter__(self) -> Iterator[Token]:
        tokens = list(super().__iter__())
        tags = [token for token in tokens if token["type"] in ("StartTag", "EmptyTag") and token.get("data")]
        ids = {token["data"][(None, "id")] for token in tags if (None, "id") in token["data"]}
        for token in tags:
            token["data"] = self._attributes(token["name"], dict(token["data"]), ids)
        yield from tokens

    @staticmethod
    def _attributes(tag: str, data: LinkAttributes, ids: set[str]) -> LinkAttributes:
        if (None, "class") in data:
            kept = [name for name in data[(None, "class")].split() if name in RENDERER_CLASSES.get(tag, ())]
            if kept:
                data[(None, "class")] = " ".join(kept)
            else:
                del data[(None, "class")]
        if (None, "id") in data:
            data[(None, "id")] = ID_PREFIX + data[(None, "id")]
        href = data.get((None, "href"), "")
        if href.startswith("#") and href[1:] in ids:
            data[(None, "href")] = "#" + ID_PREFIX + href[1:]
        return data


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
    filters = [partial(LinkifyFilter, callbacks=[partial(_mark_external_links, rel=rel)], skip_tags={"pre", "code"})]
    cleaner = bleach.Cleaner(
        tags=COMMENT_TAGS if comment else POST_TAGS,
        attributes=COMMENT_ATTRIBUTES if comment else ATTRIBUTES,
        protocols=PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=filters if comment else [*filters, RendererAttributesFilter],
    )
    return cleaner.clean(html)


def excerpt_from_html(html: str, limit: int = 280) -> str:
    """Plain text of the first paragraph that has words (a body may open with
    an image in a paragraph of its own), cut at a word boundary."""
    text, start = "", html.find("<p>")
    while start != -1 and not text:
        end = html.find("</p>", start)
        # The HTML is already sanitised: stripping tags is enough, and cheap.
        # Footnote markers (<sup>1</sup>) would read as stray digits.
        paragraph = FOOTNOTE_REF.sub("", html[start : end if end != -1 else len(html)])
        text = " ".join(html_lib.unescape(strip_tags(paragraph)).split())
        start = html.find("<p>", end) if end != -1 else -1
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def text_from_html(html: str) -> str:
    """All the words of rendered HTML (block quotes and footnotes included), as
    plain text for search. Footnote markers and heading anchors are dropped."""
    html = FOOTNOTE_REF.sub("", html)
    html = HEADER_LINK.sub("", html)
    html = BLOCK_BOUNDARY.sub(r" \g<0>", html)  # words either side of a block stay apart
    return " ".join(html_lib.unescape(strip_tags(html)).split())


# --- Plain text, for the text part of e-mails -------------------------------

_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)
_FOOTNOTE_REF = re.compile(r'<sup id="[^"]*fnref[^"]*"><a class="footnote-ref" href="#[^"]*">(\d+)</a></sup>')
_BACKREF = re.compile(r'(?:&#160;|\xa0)?<a class="footnote-backref"[^>]*>.*?</a>', re.S)
_FOOTNOTES = re.compile(r'<div class="footnote">.*?<ol>(.*?)</ol>\s*</div>', re.S)
_FOOTNOTE_ITEM = re.compile(r'<li id="[^"]*fn:[^"]*">\s*(.*?)\s*</li>', re.S)
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
