"""HTML from another platform to Markdown the author can keep editing.

markdownify does the conversion; before it runs, the platform's footnotes
(Substack's `footnote-anchor`, WordPress's `wp-block-footnotes`, Ghost's and
Python-Markdown's `footnote-ref`) become `[^n]` references with their notes
at the end, and a quote's attribution (`<cite>`, or the caption of a figure
holding the quote) becomes a last "— Name" line inside the quote. What comes
out is stored through blog.rendering like any post, which sanitises it."""

import re
from collections.abc import Callable

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString
from markdownify import ATX, MarkdownConverter

DROPPED_TAGS = ["script", "style", "noscript", "iframe", "template", "object", "embed", "form", "svg", "math"]
FOOTNOTE_NUMBER = re.compile(r"^\[?\s*(\d+)\s*\]?$")
BACK_LINK = re.compile(r"^\s*[↩︎↑^]+\s*$")
PLACEHOLDER = "DISPATCHFOOTNOTE{}END"


class _Converter(MarkdownConverter):
    class Options(MarkdownConverter.DefaultOptions):  # type: ignore[name-defined,misc]  # markdownify has no types
        heading_style = ATX
        bullets = "-"
        escape_misc = False
        table_infer_header = True


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


def html_to_markdown(html: str, localise_image: Callable[[str], str] | None = None) -> str:
    """Markdown for one post or comment body; `localise_image` maps each image URL to where it now lives."""
    soup = BeautifulSoup(html or "", "html.parser")
    for tag in soup.find_all(DROPPED_TAGS):
        tag.decompose()
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
