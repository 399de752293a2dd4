"""Where visits came from, as the insights pages name them: normalised and capped.

A page view's source is whatever the link said: any `utm_source` a visitor
types becomes a source. So a source is named one way (lowercase, a host
without "www."), a tag keeps only letters, digits, dots, dashes and
underscores up to MAX_TAG_LENGTH characters (anything else is "other tagged
links"), a tag with fewer than MIN_TAGGED_VIEWS views in the period is
folded into "other tagged links", and after the top rows the rest is one
"other sources" row. Made-up tags then cannot fill an author's page, nor put
text of a stranger's choosing in it.
"""

import re
from collections.abc import Iterable

from blog.insights.pageviews import source_label

MAX_TAG_LENGTH = 40
MIN_TAGGED_VIEWS = 5
# Grouped sources read from the database at most; what lies beyond counts as "other sources".
READ_AT_MOST = 500
OTHER_TAGGED = "utm:*"
OTHER = "*"
_TAG = re.compile(r"[a-z0-9][a-z0-9._-]*")
_LABELS = {OTHER_TAGGED: "Other tagged links", OTHER: "Other sources"}


def normal_source(source: str) -> str:
    """One name for one source, whatever the case or decoration it came with."""
    source = source.strip().lower()
    if source.startswith("utm:"):
        tag = source[4:].strip()
        return f"utm:{tag}" if len(tag) <= MAX_TAG_LENGTH and _TAG.fullmatch(tag) else OTHER_TAGGED
    return source.removeprefix("www.")


def capped(rows: Iterable[tuple[str, int]], total: int, top: int) -> list[tuple[str, int]]:
    """(source, views) rows merged by normal name, rare tags folded together,
    the `top` largest kept and everything else up to `total` views as one row."""
    merged: dict[str, int] = {}
    for source, views in rows:
        name = normal_source(source)
        merged[name] = merged.get(name, 0) + views
    rare = [name for name, views in merged.items() if name.startswith("utm:") and views < MIN_TAGGED_VIEWS]
    for name in rare:
        if name != OTHER_TAGGED:
            merged[OTHER_TAGGED] = merged.get(OTHER_TAGGED, 0) + merged.pop(name)
    ordered = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    kept = ordered[:top]
    rest = total - sum(views for _, views in kept)
    return [*kept, (OTHER, rest)] if rest > 0 else kept


def label(source: str) -> str:
    return _LABELS.get(source) or source_label(source)
