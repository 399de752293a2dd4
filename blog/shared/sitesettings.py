"""The publication's settings as every page, e-mail, feed and card reads them.

One row (blog.models.SiteSettings) edited on the desk; a blank field falls
back to the environment (SITE_NAME, SITE_DESCRIPTION, DEFAULT_FROM_EMAIL,
EMAIL_REPLY_TO, TIME_ZONE). `current()` is the one way to read them: it keeps
the resolved values in the shared cache, and `save_site` drops that copy and
bumps the site-wide page version, so a change shows at once on every page,
cached or not. Each process also keeps the values for LOCAL_SECONDS, since
every request reads the time zone (TimeZoneMiddleware) and a page served
from the page cache otherwise asks the shared cache nothing. See
docs/site-settings.md.
"""

import re
import time
import zoneinfo
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from functools import cache as memoise
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction

from blog import pagecache
from blog.models import SiteSettings
from blog.shared.rendering import render_markdown

CACHE_KEY = "sitesettings:current:2"  # pickled Site: a new key whenever its module moves
LOCAL_SECONDS = 1.0
MAX_NAV_LINKS = 8
# The page background and the text on accent-coloured buttons (static/css/site.css).
PAPER, DARK_PAPER = "#fffdf8", "#171716"
ACCENT_INK, DARK_ACCENT_INK = "#ffffff", "#1a0b09"
AA_CONTRAST = 4.5  # WCAG 2.x AA for normal-size text
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str


@dataclass(frozen=True)
class Site:
    """The settings with the environment's defaults applied."""

    name: str
    description: str
    sender_name: str
    reply_to: tuple[str, ...]
    time_zone: str
    accent_color: str = ""
    logo_url: str = ""
    favicon_path: str = ""  # in default storage; empty: the default favicon
    about_html: str = ""
    footer_text: str = ""
    nav_links: tuple[NavLink, ...] = field(default=())
    version: str = "0"  # changes with every save: cache-busts /theme.css and the favicon

    @property
    def dark_accent(self) -> str:
        return readable_on_dark(self.accent_color) if self.accent_color else ""


_local: list[tuple[float, Site]] = []  # this process's copy, and when it was read


def current() -> Site:
    if _local and time.monotonic() - _local[0][0] < LOCAL_SECONDS:
        return _local[0][1]
    site = cache.get(CACHE_KEY)
    if not isinstance(site, Site):
        site = resolve(SiteSettings.objects.filter(pk=1).first())
        cache.set(CACHE_KEY, site, timeout=None)
    _local[:] = [(time.monotonic(), site)]
    return site


def forget() -> None:
    """Read the settings afresh: now, and again once the change commits, so
    that no copy read by another request in between survives it."""
    _local.clear()
    cache.delete(CACHE_KEY)


def resolve(row: SiteSettings | None) -> Site:
    row = row or SiteSettings()
    env_sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or settings.SITE_NAME
    return Site(
        name=row.name or settings.SITE_NAME,
        description=row.description or settings.SITE_DESCRIPTION,
        sender_name=row.sender_name or (row.name if row.name and env_sender == settings.SITE_NAME else env_sender),
        reply_to=(row.reply_to,) if row.reply_to else tuple(settings.EMAIL_REPLY_TO),
        time_zone=row.time_zone or settings.TIME_ZONE,
        accent_color=row.accent_color.lower(),
        logo_url=row.logo.url if row.logo else "",
        favicon_path=row.favicon.name or "" if row.favicon else "",
        about_html=row.about_html,
        footer_text=row.footer_text,
        nav_links=tuple(NavLink(link["label"], link["url"]) for link in row.nav_links or []),
        version=f"{row.updated_at:%Y%m%d%H%M%S%f}" if row.updated_at else "0",
    )


def load() -> SiteSettings:
    return SiteSettings.objects.get_or_create(pk=1)[0]


def save_site(row: SiteSettings) -> None:
    """Save the settings; every page and e-mail shows them once this commits."""
    row.about_html = render_markdown(row.about) if row.about.strip() else ""
    before = SiteSettings.objects.filter(pk=row.pk).values_list("logo", "favicon").first() or ("", "")
    row.save()
    for name, replaced in zip(("logo", "favicon"), before, strict=True):
        if replaced and replaced != getattr(row, name).name:  # a new picture, or cleared: the old file goes
            transaction.on_commit(partial(default_storage.delete, replaced))
    forget()
    transaction.on_commit(forget)
    pagecache.site_changed()


def from_email() -> str:
    """The From of every e-mail: the configured sender name on DEFAULT_FROM_EMAIL's address."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return formataddr((current().sender_name, address))


def reply_to() -> list[str] | None:
    return list(current().reply_to) or None


# --- Checks the settings form applies ----------------------------------------


def parse_nav_links(text: str) -> list[NavLink]:
    """One "Label | address" a line; ValueError saying which line is wrong."""
    links = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, bar, url = (part.strip() for part in line.partition("|"))
        if not bar or not label or not url:
            raise ValueError(f"Line {number}: write a label, a bar and an address, like “About | /about/”.")
        if len(label) > 40:
            raise ValueError(f"Line {number}: keep the label to 40 characters.")
        if not safe_link(url):
            raise ValueError(
                f"Line {number}: “{url}” is not a safe address. Use one starting with https:// or http://, "
                "or a path on this site starting with /."
            )
        links.append(NavLink(label, url))
    if len(links) > MAX_NAV_LINKS:
        raise ValueError(f"At most {MAX_NAV_LINKS} navigation links.")
    return links


def safe_link(url: str) -> bool:
    """http(s) to another site, or a path on this one; never javascript:, data:, or //host."""
    if len(url) > 500 or any(char.isspace() or char == "\\" or ord(char) < 32 for char in url):
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def contrast_problem(colour: str) -> str | None:
    """Why an accent colour cannot be used, or None: it must be #rrggbb and,
    as link text on the page and as a button behind white text, reach AA."""
    if not _HEX_COLOUR.match(colour):
        return "Write the colour as # and six hexadecimal digits, like #b3261e."
    ratio = min(contrast(colour, PAPER), contrast(colour, ACCENT_INK))
    if ratio < AA_CONTRAST:
        return (
            f"{colour} has a contrast of {ratio:.1f}:1 against the page background; it needs at least "
            f"{AA_CONTRAST}:1 (WCAG AA) to be readable. Choose a darker colour."
        )
    return None


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@memoise
def readable_on_dark(colour: str) -> str:
    """The accent for dark mode: mixed with white until it reads on the dark page."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(11):
        mixed = "#" + "".join(f"{round(c + (255 - c) * step / 10):02x}" for c in (red, green, blue))
        if contrast(mixed, DARK_PAPER) >= AA_CONTRAST and contrast(mixed, DARK_ACCENT_INK) >= AA_CONTRAST:
            return mixed
    return "#ffffff"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def time_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())
