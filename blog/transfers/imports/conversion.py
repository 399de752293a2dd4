"""HTML from another platform to Markdown the author can keep editing.

markdownify does the conversion, with the Markdown written so that
blog.shared.rendering (Python-Markdown) reads it back the same: list items indented
four spaces (nested lists stay nested), strikethrough, sub/superscript, kbd
and abbr kept as the inline HTML the sanitiser allows (Python-Markdown has
no `~~`), a figure with its caption kept as a figure, a rule-free break
between consecutive quotes so they stay two. Embedded players and posts
from an allow-list of providers become a plain link to the original (no
third-party script runs until the reader follows it); every other embed,
script or form is left out and named in `dropped`, which the importer
puts in its report. Also before it runs, before it runs, the platform's footnotes
(Substack's `footnote-anchor`, WordPress's `wp-block-footnotes`, Ghost's and
Python-Markdown's `footnote-ref`) become `[^n]` references with their notes
at the end, and a quote's attribution (`<cite>`, or the caption of a figure
holding the quote) becomes a last "— Name" line inside the quote. What comes
out is stored through blog.shared.rendering like any post, which sanitises it."""

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, NavigableString
from django.utils.html import escape
from markdownify import ATX, MarkdownConverter

from blog.transfers.imports.archive import ImportRefused

DROPPED_TAGS = ["script", "style", "noscript", "template", "form", "svg", "math", "link", "meta", "button", "input"]
PLAYER_TAGS = ["iframe", "video", "audio", "object", "embed"]
# Providers whose players and posts become a link card; a reader follows the link to play them.
EMBED_PROVIDERS = {
    "youtube.com": "YouTube", "youtu.be": "YouTube", "youtube-nocookie.com": "YouTube", "vimeo.com": "Vimeo",
    "spotify.com": "Spotify", "soundcloud.com": "SoundCloud", "bandcamp.com": "Bandcamp", "twitter.com": "X",
    "x.com": "X", "bsky.app": "Bluesky", "mastodon.social": "Mastodon",
}  # fmt: skip
MEDIA_FILE = re.compile(r"\.(mp3|m4a|ogg|oga|wav|mp4|m4v|webm|mov)(\?|$)", re.I)
NOT_WORTH_NAMING = {"style", "noscript", "template", "link", "meta"}  # presentation only, nothing a reader read
FOOTNOTE_NUMBER = re.compile(r"^\[?\s*(\d+)\s*\]?$")
BACK_LINK = re.compile(r"^\s*[↩︎↑^]+\s*$")
PLACEHOLDER = "DISPATCHFOOTNOTE{}END"


class _Converter(MarkdownConverter):
    class Options(MarkdownConverter.DefaultOptions):  # type: ignore[name-defined,misc]  # markdownify has no types
        heading_style = ATX
        bullets = "-"
        escape_misc = False
        table_infer_header = True
        sub_symbol = "<sub>"
        sup_symbol = "<sup>"

    def convert_li(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """Python-Markdown nests a list only under four spaces; markdownify indents by the bullet's width."""
        converted: str = super().convert_li(el, text, parent_tags)  # type: ignore[misc]  # untyped base
        marker = re.match(r"^(-|\d+\.) ", converted)
        if not marker:
            return converted
        width = len(marker.group(0))
        lines = converted.split("\n")
        head = marker.group(1).ljust(4) + lines[0][width:]
        rest = [("    " + line[width:]) if line.startswith(" " * width) else line for line in lines[1:]]
        return "\n".join([head, *rest])

    def convert_del(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"<del>{text}</del>" if text.strip() else text

    convert_s = convert_del
    convert_strike = convert_del

    def convert_kbd(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"<kbd>{text}</kbd>" if text.strip() else text

    def convert_abbr(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        title = el.get("title")
        return f'<abbr title="{escape(str(title))}">{text}</abbr>' if title and text.strip() else text

    def convert_q(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"\u201c{text}\u201d"

    def convert_figure(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """An image with its caption stays a figure (the sanitiser keeps figure, img and figcaption)."""
        image, caption = el.find("img"), el.find("figcaption")
        if image is None or caption is None or el.find(["blockquote", "table"]):
            return text
        src, alt = escape(str(image.get("src") or "")), escape(str(image.get("alt") or ""))
        words = escape(caption.get_text(" ", strip=True))
        return f'\n\n<figure><img src="{src}" alt="{alt}"><figcaption>{words}</figcaption></figure>\n\n'

    def convert_blockquote(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        converted: str = super().convert_blockquote(el, text, parent_tags)  # type: ignore[misc]  # untyped base
        following = el.find_next_sibling(True)
        if following is not None and following.name == "blockquote":
            converted += "\n\n<!-- -->\n\n"  # else Python-Markdown joins two quotes into one
        return converted


def _convert(node: Tag | str) -> str:
    return _Converter().convert_soup(node) if isinstance(node, Tag) else _Converter().convert(node)


def _footnotes(soup: BeautifulSoup) -> list[tuple[str, Tag]]:
    """Turn references into placeholders; return (number, note element) pairs, notes detached."""
    notes: list[tuple[str, Tag]] = []
    order = {id(tag): n for n, tag in enumerate(soup.find_all(True))}
    for anchor in soup.find_all("a", href=re.compile(r"^#.")):
        if anchor.parent is None or not FOOTNOTE_NUMBER.match(anchor.get_text()):
            continue
        target = soup.find(id=anchor["href"][1:])
        if target is None or order.get(id(target), -1) < order.get(id(anchor), 0):
            continue  # a back-link from a note to its reference, or nothing
        note = target.parent if target.name == "a" and target.parent is not None else target
        if note is not target:
            target.decompose()
        number = str(len(notes) + 1)
        in_sup = anchor.parent.name == "sup" and len(anchor.parent.get_text(strip=True)) <= 5
        marker = anchor.parent if in_sup else anchor
        marker.replace_with(NavigableString(PLACEHOLDER.format(number)))
        notes.append((number, note))
    for _, note in notes:
        for link in note.find_all("a", href=re.compile(r"^#")):
            if BACK_LINK.match(link.get_text()) or "backref" in " ".join(link.get_attribute_list("class")):
                link.decompose()
        container = note.parent
        note.extract()
        note.name = "div"  # a list item of notes would convert to "- text"
        while container is not None and container.name != "[document]" and not container.get_text(strip=True):
            parent = container.parent
            container.decompose()
            container = parent
    return notes


def _attributions(soup: BeautifulSoup) -> None:
    for quote in soup.find_all("blockquote"):
        for cite in quote.find_all("cite"):
            name = cite.get_text(" ", strip=True)
            cite.decompose()
            if name:
                _append_attribution(soup, quote, name)
        figure = quote.find_parent("figure")
        caption = figure.find("figcaption") if figure else None
        if caption is not None:
            name = caption.get_text(" ", strip=True)
            caption.decompose()
            if name:
                _append_attribution(soup, quote, name)


def _append_attribution(soup: BeautifulSoup, quote: Tag, name: str) -> None:
    line = soup.new_tag("p")
    line.string = name if name.startswith(("\u2014", "\u2013", "-")) else f"— {name}"
    quote.append(line)


def provider(url: str) -> str:
    """The allow-listed provider's name for an embed URL, or ""."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.").removeprefix("open.").removeprefix("w.")
    for domain, name in EMBED_PROVIDERS.items():
        if host == domain or host.endswith("." + domain):
            return name
    return ""


def _player_url(tag: Tag) -> str:
    for candidate in (tag, *tag.find_all(["source", "param"])):
        for attribute in ("src", "data-src", "data", "value"):
            value = str(candidate.get(attribute) or "")
            if value.startswith(("http://", "https://", "//")):
                return "https:" + value if value.startswith("//") else value
    return ""


def _link_card(soup: BeautifulSoup, url: str, label: str) -> Tag:
    card = soup.new_tag("p")
    link = soup.new_tag("a", href=url)
    link.string = f"{label}: {url}"
    card.append(link)
    return card


def _players(soup: BeautifulSoup, dropped: list[str]) -> None:
    """Allow-listed players and media files become links; anything else is named in `dropped`."""
    for tag in soup.find_all(PLAYER_TAGS):
        if tag.parent is None:
            continue  # inside a player already replaced
        url = _player_url(tag)
        name = provider(url)
        if name:
            tag.replace_with(_link_card(soup, url, f"{name} (opens {urlsplit(url).hostname})"))
        elif url and (tag.name in ("audio", "video") or MEDIA_FILE.search(url)):
            tag.replace_with(_link_card(soup, url, "Audio" if tag.name == "audio" or "mp3" in url else "Video"))
        else:
            where = urlsplit(url).hostname if url else "no address"
            dropped.append(f"an embedded <{tag.name}> ({where})")
            tag.decompose()


def _subscribe_forms(soup: BeautifulSoup) -> None:
    """A sign-up form of the old platform (Substack's subscription widget, Ghost's and WordPress's
    subscribe blocks) becomes a link to Dispatch's own subscribe page."""
    for form in soup.find_all("form"):
        marks = " ".join([str(form.get("action") or ""), *form.get_attribute_list("class")]).lower()
        parent = form.find_parent(class_=re.compile("subscri"))
        if "subscri" in marks or parent is not None:
            paragraph = soup.new_tag("p")
            link = soup.new_tag("a", href="/subscribe/")
            link.string = "Subscribe"
            paragraph.append(link)
            form.replace_with(paragraph)


def _cards(soup: BeautifulSoup) -> None:
    """Ghost's bookmark cards become a link with their title; a button's link stays a link."""
    for card in soup.select(".kg-bookmark-card"):
        link = card.find("a", href=True)
        title = card.select_one(".kg-bookmark-title")
        if link is None:
            continue
        paragraph = soup.new_tag("p")
        anchor = soup.new_tag("a", href=str(link["href"]))
        anchor.string = title.get_text(" ", strip=True) if title else str(link["href"])
        paragraph.append(anchor)
        description = card.select_one(".kg-bookmark-description")
        if description and description.get_text(strip=True):
            paragraph.append(f" — {description.get_text(' ', strip=True)}")
        card.replace_with(paragraph)


def html_to_markdown(
    html: str,
    localise_image: Callable[[str], str] | None = None,
    dropped: list[str] | None = None,
    rewrite_link: Callable[[str], str] | None = None,
) -> str:
    """Markdown for one post or comment body; `localise_image` maps each image URL to where it now lives,
    `rewrite_link` each link's address; what cannot be kept is described in `dropped`."""
    dropped = [] if dropped is None else dropped
    soup = BeautifulSoup(html or "", "html.parser")
    lowered = (html or "").lower()  # each pass below walks the tree only when its markup is there at all
    if "<!--" in lowered:
        for node in soup.find_all(string=lambda text: isinstance(text, Comment)):
            node.extract()
    if "<form" in lowered:
        _subscribe_forms(soup)
    for tag in soup.find_all(DROPPED_TAGS):
        if tag.name not in NOT_WORTH_NAMING and not (tag.name == "script" and _is_embed_script(tag)):
            dropped.append(f"a <{tag.name}>")
        tag.decompose()
    if any(f"<{tag}" in lowered for tag in PLAYER_TAGS):
        _players(soup, dropped)
    if "kg-bookmark" in lowered:
        _cards(soup)
    if rewrite_link:
        for link in soup.find_all("a", href=True):
            link["href"] = rewrite_link(str(link["href"]))
    if localise_image:
        for image in soup.find_all("img", src=True):
            image["src"] = localise_image(str(image["src"]))
    _attributions(soup)
    notes = _footnotes(soup)
    body = _convert(soup).strip()
    definitions = []
    for number, note in notes:
        text = _convert(note).strip().replace("\n", "\n    ")
        definitions.append(f"[^{number}]: {text}")
        body = body.replace(PLACEHOLDER.format(number), f"[^{number}]")
    body = re.sub(r"\n{3,}", "\n\n", body)
    return body + ("\n\n" + "\n".join(definitions) if definitions else "") + "\n"


def _is_embed_script(tag: Tag) -> bool:
    """The loader script of an allow-listed post embed (a tweet, a Bluesky post): its quote stays as text."""
    return (
        bool(provider(str(tag.get("src") or "")))
        or "platform.twitter.com" in str(tag.get("src") or "")
        or ("embed.bsky.app" in str(tag.get("src") or ""))
    )


def plain_text(value: str) -> str:
    """A title or subtitle as text: markup stripped, entities decoded once (the HTML parser's own decoding)."""
    if "<" not in value and "&" not in value:
        return value.strip()
    return " ".join(BeautifulSoup(value, "html.parser").get_text().split())


ENCODING_HINT = "Save it again as UTF-8 (in a spreadsheet: Save As → “CSV UTF-8”) and import again."


def decode_text(raw: bytes, name: str) -> str:
    """A file of an export as text: UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else
    is refused, naming the file and what to do, rather than read as U+FFFD."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"{name} is not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start}; it may be Latin-1 "
            f"or Windows-1252). {ENCODING_HINT}"
        ) from error
