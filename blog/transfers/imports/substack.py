"""Substack's export ZIP (Settings → Exports → "Create new export").

Substack publishes no schema; this follows real exports as open-source
readers of them describe the files: `posts.csv` with one row per post
(post_id as "<number>.<slug>", post_date, is_published, email_sent_at, type,
audience, title, subtitle), each body in `posts/<post_id>.html`, and the list
in `email_list.<publication>.csv` (email, active_subscription, expiry, plan,
email_disabled, created_at, first_payment_at)."""

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape

from accounts.models import User
from blog.models import Post, Subscriber
from blog.transfers.imports.archive import ImportRefused, SafeZip
from blog.transfers.imports.conversion import ENCODING_HINT, decode_text
from blog.transfers.imports.steps import Importer, PostData, SubscriberData

POST_COLUMNS = {"post_id", "post_date", "is_published", "title"}
LIST_COLUMNS = {"email"}
PAID_TYPES = {"paid", "comp", "gift", "founding"}

IMPORTED_TYPES = {"newsletter", "podcast", ""}


def matches(archive: SafeZip) -> bool:
    return "posts.csv" in archive.names


def parse_date(value: str) -> datetime | None:
    when = parse_datetime(value.strip()) if value and value.strip() else None
    if when is not None and timezone.is_naive(when):
        when = timezone.make_aware(when, UTC)
    return when


def read_text(archive: SafeZip, name: str) -> str:
    """A member as text: UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is refused by name."""
    try:
        raw = archive.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise ImportRefused(f"{name} in the ZIP is damaged or cut short ({error}); export it again.") from error
    return decode_text(raw, name)


def _rows(archive: SafeZip, name: str, required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """The CSV's rows, streamed (a list of 100,000 is not held twice): UTF-8, or BOM-marked UTF-16."""
    with archive.open(name) as member:
        encoding = "utf-16" if member.read(2) in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    reader = csv.DictReader(io.TextIOWrapper(archive.open(name), encoding=encoding, newline=""))
    try:
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise ImportRefused(f"{name} is not a Substack export: it has no {', '.join(sorted(missing))} column.")
        for row in reader:
            yield reader.line_num, row
    except csv.Error as error:
        raise ImportRefused(f"{name} cannot be read past line {reader.line_num}: {error}.") from error
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"{name} is not UTF-8 text (byte 0x{error.object[error.start]:02x} near line {reader.line_num + 1}; "
            f"it may be Latin-1 or Windows-1252). {ENCODING_HINT}"
        ) from error
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ImportRefused(f"{name} in the ZIP is damaged or cut short ({error}); export it again.") from error


def _rewriter(publication: str) -> Callable[[str], str]:
    """Substack's subscribe and comment buttons lead to Dispatch's. Only links to the publication's own
    substack.com address are rewritten here; buttons on a custom domain are rewritten by `_buttons`."""
    own = f"{publication}.substack.com" if publication else ""

    def rewrite(href: str) -> str:
        parts = urlsplit(href)
        if not own or parts.netloc.lower() != own:
            return href
        return _dispatch_path(href)

    return rewrite


def _dispatch_path(href: str) -> str:
    path = urlsplit(href).path
    if re.match(r"^/subscribe\b", path):
        return "/subscribe/"
    comments = re.match(r"^/p/([^/?#]+)/comments", path)
    return f"/p/{comments.group(1)}/#comments" if comments else href


def _buttons(html: str) -> str:
    """Substack's buttons (`<a class="button">` in a `button-wrapper`) to subscribe or comment, whatever
    the publication's domain, lead to Dispatch's."""
    if "button" not in html:
        return html
    soup = BeautifulSoup(html, "html.parser")
    for link in soup.select("a.button[href]"):
        link["href"] = _dispatch_path(str(link["href"]))
    return str(soup)


def load(archive: SafeZip, importer: Importer) -> None:
    posts = list(_rows(archive, "posts.csv", POST_COLUMNS))
    lists = [name for name in archive.names if name.startswith("email_list") and name.endswith(".csv")]
    importer.site = lists[0].removeprefix("email_list.").removesuffix(".csv") if lists else ""
    importer.link_rewriter = _rewriter(importer.site)
    importer.total = len(posts) + sum(_count_lines(archive, name) for name in lists)
    seen: set[str] = set()
    for line, row in posts:
        _load_post(archive, importer, line, row, seen)
        importer.step()
    if lists and not importer.takes_site_data:
        importer.report.notes.append(
            "Subscribers are imported only by those who manage them; the e-mail list was left out."
        )
        return
    label = f"imported from Substack {importer.now:%Y-%m-%d}"
    for name in lists:
        importer.save_subscribers(_subscribers(archive, name, importer), label, leavers_from="imported from Substack")


def _count_lines(archive: SafeZip, name: str) -> int:
    try:
        with archive.open(name) as member:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: member.read(1 << 20), b"")) - 1, 0)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ImportRefused(f"{name} in the ZIP is damaged or cut short ({error}); export it again.") from error


def _load_post(archive: SafeZip, importer: Importer, line: int, row: dict[str, str], seen: set[str]) -> None:
    post_id = row["post_id"].strip()
    number, _, slug = post_id.partition(".")
    kind = (row.get("type") or "").strip()
    if kind not in IMPORTED_TYPES:
        importer.problem(f"posts.csv line {line}: a Substack {kind} (“{row['title']}”) has no place here; left out.")
        importer.report.count("posts", "skipped")
        return
    html_name = f"posts/{post_id}.html"
    if html_name not in archive.names:
        importer.problem(f"posts.csv line {line}: “{row['title']}” has no {html_name} in the ZIP; skipped.")
        importer.report.count("posts", "skipped")
        return
    published = row["is_published"].strip().lower() == "true"
    paid_only = (row.get("audience") or "everyone").strip() not in ("everyone", "")
    if published and paid_only:
        importer.problem(f"“{row['title']}” was for paying subscribers only; imported as a draft.")
    when = parse_date(row["post_date"])
    if row["post_date"].strip() and when is None:
        importer.problem(f"posts.csv line {line}: “{row['post_date']}” is not a date; “{row['title']}” is a draft.")
    author = importer.user or _owner()
    html = _buttons(read_text(archive, html_name))
    podcast = (row.get("podcast_url") or "").strip()
    if podcast.startswith(("https://", "http://")):
        html += f'<p><a href="{escape(podcast)}">Listen to the episode (audio file)</a></p>'
    importer.save_post(
        PostData(
            source_id=_source_id(number, post_id, line, seen, importer),
            title=row["title"],
            subtitle=row.get("subtitle") or "",
            slug=slug,
            html=html,
            author=author,
            status=Post.Status.PUBLISHED if published and not paid_only and when else Post.Status.DRAFT,
            published_at=when,
        )
    )


def _source_id(number: str, post_id: str, line: int, seen: set[str], importer: Importer) -> str:
    """The post's number; a number seen twice in posts.csv is reported and the row keyed by its whole id."""
    source_id = number or post_id
    if source_id in seen:
        importer.problem(f"posts.csv line {line}: post number {source_id} appears twice; told apart by “{post_id}”.")
        source_id = post_id
    seen.add(source_id)
    return source_id


def _owner() -> User:
    """The command line imports into the first staff account."""
    owner = User.objects.filter(is_staff=True).order_by("pk").first()
    if owner is None:
        raise ImportRefused("Substack posts need an author: create a staff account first, or import from the desk.")
    return owner


def _subscribers(archive: SafeZip, name: str, importer: Importer) -> Iterator[SubscriberData]:
    """Every row is a subscriber: `active_subscription` marks a paid plan, not delivery; only
    `email_disabled` stops mail (then the address is suppressed, as a bounce is)."""
    paid = 0
    for line, row in _rows(archive, name, LIST_COLUMNS):
        disabled = (row.get("email_disabled") or "").strip().lower() == "true"
        if _is_paid(row):
            paid += 1
        yield SubscriberData(
            line=line,
            email=row["email"],
            status=Subscriber.Status.BOUNCED if disabled else Subscriber.Status.ACTIVE,
            created_at=parse_date(row.get("created_at") or ""),
        )
    if paid:
        importer.report.notes.append(
            f"{paid} subscriber{'s' if paid != 1 else ''} had a paid, complimentary or gift plan on Substack; "
            "their plans are not imported (they are subscribers here like everyone else)."
        )


def _is_paid(row: dict[str, str]) -> bool:
    return (
        (row.get("active_subscription") or "").strip().lower() == "true"
        or (row.get("plan") or "").strip().lower() not in ("", "free", "other")
        or bool((row.get("first_payment_at") or "").strip())
        or (row.get("type") or "").strip().lower() in PAID_TYPES
    )
