"""The site itself: its name, its address, and absolute URLs on it.

`absolute` is the one way to turn a path into a URL that works outside the
site (e-mail, feeds, social cards, share links)."""

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from blog.shared import sitesettings


def absolute(path: str) -> str:
    """/p/x/ -> https://site/p/x/; a URL that is absolute already stays as it is."""
    if path.startswith(("http://", "https://", "mailto:")):
        return path
    return f"{settings.SITE_URL}{path}"


_RELATIVE_URL = re.compile(r'(src|href)="(/[^"]*|#[^"]*)"')


def absolutise(html: str, page_url: str) -> str:
    """Images and links in HTML read away from the site (e-mail, feeds) must name it:
    /media/x -> https://site/media/x, and #fn:1 -> the page's own URL#fn:1."""

    def fix(match: re.Match[str]) -> str:
        attribute, url = match.groups()
        return f'{attribute}="{page_url + url if url.startswith("#") else absolute(url)}"'

    return _RELATIVE_URL.sub(fix, html)


def hostname() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def identity() -> dict[str, Any]:
    """What every page and e-mail template may use: the site settings (blog/shared/sitesettings.py)."""
    site = sitesettings.current()
    return {
        "SITE_NAME": site.name,
        "SITE_URL": settings.SITE_URL,
        "SITE_DESCRIPTION": site.description,
        "SITE_LOGO_URL": site.logo_url,
        "SITE_NAV": site.nav_links,
        "SITE_FOOTER": site.footer_text,
        "SITE_HAS_ABOUT": bool(site.about_html),
        "SITE_THEME_VERSION": site.version if site.accent_color else "",
        "SITE_ICON_VERSION": site.version,
        "postal_address": settings.POSTAL_ADDRESS,
    }
