"""The visitor's address, as every limit and record counts it.

Here rather than in blog/shared/ratelimits.py because allauth's limits (through
blog.accountmail) must count the same address, and accounts never imports blog."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The visitor's address. X-Forwarded-For is believed only as far as the
    number of proxies we run (TRUSTED_PROXY_COUNT); otherwise anyone could
    dodge a limit by sending the header. allauth's limits use this too
    (blog.accountmail), so log-in failures are counted per visitor."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies and (ip := _valid_ip(forwarded[-proxies])):
        return ip
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


def address_key(ip: str | None) -> str:
    """What a limit counts per address: IPv4 as is, IPv6 by its /64 network,
    because one subscriber line is given a whole /64 to pick addresses from."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or ""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)
