"""The time zones a person may choose: the tz database's current names, without
its backward-compatible links (US/Eastern, Asia/Calcutta, Europe/Kiev, ...).

The list is the tz database's own `zone.tab` (one line per country zone, kept
current by its maintainers) plus UTC. Where the system has no zone.tab, the
names under the continent and ocean areas stand in for it."""

import zoneinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import timezone

AREAS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/",
         "Pacific/")  # fmt: skip


def _zone_tab_names() -> set[str]:
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            return {line.split("\t")[2] for line in lines if line and not line.startswith("#")}
    return set()


@cache
def time_zones() -> list[str]:
    available = zoneinfo.available_timezones()
    listed = _zone_tab_names() or {name for name in available if name.startswith(AREAS)}
    return sorted((listed & available) | {"UTC"})


@cache
def _links() -> dict[str, str]:
    """Old name -> current name, from the tz database's own link lines ("L Asia/Kolkata Asia/Calcutta")."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "tzdata.zi"
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            return {parts[2]: parts[1] for line in lines if (parts := line.split()) and parts[0] == "L"}
    return {}


def canonical(name: str) -> str | None:
    """The listed name for a zone a browser reports: browsers (ICU) still say
    Asia/Calcutta and Europe/Kiev. None for a name that is no zone at all."""
    for _ in range(3):  # a link may point at another link
        if is_known(name):
            return name
        if name not in _links():
            return None
        name = _links()[name]
    return None


def choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zones()]


def is_known(name: str) -> bool:
    return name in time_zones()


def site_default() -> str:
    """The site's zone: what blog.middleware.TimeZoneMiddleware activated first
    for this request (the site settings), else TIME_ZONE."""
    return timezone.get_current_timezone_name()


def zone_of(name: str) -> ZoneInfo:
    """The zone named, or the site's default for an empty or unknown name."""
    return ZoneInfo(name if name and is_known(name) else site_default())


def abbreviation(name: str) -> str:
    """The zone's abbreviation now, e.g. "CET" or "BST" (or "+03" where it has none)."""
    return timezone.localtime(timezone=zone_of(name)).strftime("%Z")
