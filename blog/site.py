"""The site itself: its name, its address, and absolute URLs on it.

`absolute` is the one way to turn a path into a URL that works outside the
site (e-mail, feeds, social cards, share links)."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


def absolute(path: str) -> str:
    """/p/x/ -> https://site/p/x/; a URL that is absolute already stays as it is."""
    if path.startswith(("http://", "https://", "mailto:")):
        return path
    return f"{settings.SITE_URL}{path}"


def hostname() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def identity() -> dict[str, Any]:
    """What every page and e-mail template may use."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "SITE_DESCRIPTION": settings.SITE_DESCRIPTION,
        "postal_address": settings.POSTAL_ADDRESS,
    }
