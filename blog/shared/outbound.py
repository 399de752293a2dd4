"""Which addresses Dispatch may connect to, and connecting to the one checked.

Imported posts' images, webhooks and federation reach servers named by
someone else (an uploaded file, a publisher, a remote server), so none may
become a way into the worker's network (docs/security.md). A host is
resolved and every address it names must be public: not loopback, private,
shared, link-local (where cloud metadata answers, at 169.254.169.254),
multicast, reserved or unspecified; IPv4 inside IPv6 (mapped, 6to4, Teredo)
is judged as IPv4. The connection then goes to the very address checked, so
a name that resolves elsewhere a moment later gains nothing.

Tests and local drills open networks of their own through `allow`
(IMPORT_FETCH_ALLOWED_NETWORKS, WEBHOOK_ALLOW_PRIVATE_TARGETS,
FEDERATION_ALLOW_PRIVATE_ADDRESSES); no production site does."""

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
EVERYWHERE = ("0.0.0.0/0", "::/0")  # what the "allow private" switches open


class Unresolved(Exception):
    """The host has no address."""


class Refused(Exception):
    """The host names an address Dispatch does not connect to."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}")
        self.address = address


def is_public(address: Address, allow: Iterable[str] = ()) -> bool:
    """An address on the open internet, or in a network a test opened (`allow`)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is not None:
            return is_public(inner, allow)
    if any(address in ipaddress.ip_network(network) for network in allow):
        return True
    special = (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
               or address.is_reserved or address.is_unspecified)  # fmt: skip
    return address.is_global and not special


def checked_addresses(host: str, port: int, allow: Iterable[str] = ()) -> list[str]:
    """Every address `host` resolves to, IPv4 first, if all are public; one that is not refuses the host."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Unresolved(host) from error
    # IPv4 first: a name such as localhost may answer ::1 where only 127.0.0.1 listens.
    addresses = [str(info[4][0]) for info in sorted(infos, key=lambda info: info[0] != socket.AF_INET)]
    if not addresses:
        raise Unresolved(host)
    networks = list(allow)
    for address in addresses:
        if not is_public(ipaddress.ip_address(address.split("%")[0]), networks):
            raise Refused(host, address)
    return addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to the address that was checked; the certificate is still checked against the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def connection(host: str, port: int, address: str, *, https: bool, timeout: float) -> http.client.HTTPConnection:
    """A connection (opened at the first request) to `address`, checked by `checked_addresses`."""
    kind = _PinnedHTTPS if https else _PinnedHTTP
    return kind(host, port, address, timeout)
