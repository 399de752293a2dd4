"""The only way federation reaches another server: signed GETs of actors and
objects, signed POSTs to inboxes.

Every request resolves the host first and refuses loopback, private,
link-local, multicast and reserved addresses, then connects to the very
address it checked (so a DNS answer cannot change between check and
connect). Only https, unless FEDERATION_ALLOW_PRIVATE_ADDRESSES (tests and
the two-site drill on loopback). Responses are read up to a size limit,
redirects are not followed, and every call has a timeout."""

import http.client
import ipaddress
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from blog.federation import signatures

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
USER_AGENT = "Dispatch (+ActivityPub)"
MAX_RESPONSE_BYTES = 1024 * 1024


class NetworkError(Exception):
    """The other server could not be reached, or answered with something unusable."""


class RefusedAddress(NetworkError):
    """The URL leads to an address federation must not reach."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    retry_after: str = ""


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES:
        return True
    return ip.is_global and not ip.is_multicast


def resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, checked address) for a URL federation may reach; RefusedAddress otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES):
        raise RefusedAddress(f"Only https URLs are fetched: {url}")
    if not parts.hostname:
        raise RefusedAddress(f"No host in {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise NetworkError(f"{parts.hostname} does not resolve") from error
    # IPv4 first: a host name such as localhost may answer ::1 where only 127.0.0.1 listens.
    addresses = [info[4][0] for info in sorted(infos, key=lambda info: info[0] != socket.AF_INET)]
    if not addresses or not all(_allowed(str(address)) for address in addresses):
        raise RefusedAddress(f"{parts.hostname} resolves to an address federation does not reach")
    return parts.scheme, parts.hostname, port, str(addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Connects to the checked address, and still verifies the certificate for the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def request(method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> Response:
    scheme, host, port, address = resolve(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = kind(host, port, address, settings.FEDERATION_TIMEOUT_SECONDS)
    try:
        connection.request(method, target, body=body, headers={"User-Agent": USER_AGENT, **headers})
        answer = connection.getresponse()
        data = answer.read(MAX_RESPONSE_BYTES + 1)
        return Response(answer.status, data[:MAX_RESPONSE_BYTES], answer.getheader("Retry-After") or "")
    except (OSError, http.client.HTTPException) as error:
        raise NetworkError(f"{host}: {error}") from error
    finally:
        connection.close()


def get_json(url: str, key_id: str, private_pem: str) -> dict[str, Any]:
    """A signed GET of an ActivityPub document (servers with authorized fetch ask for the signature)."""
    headers = {"Accept": ACCEPT, **signatures.sign("GET", url, None, key_id, private_pem)}
    answer = request("GET", url, headers)
    if answer.status != 200:
        raise NetworkError(f"{url} answered {answer.status}")
    if len(answer.body) >= MAX_RESPONSE_BYTES:
        raise NetworkError(f"{url} answered with too large a document")
    try:
        document = json.loads(answer.body)
    except ValueError as error:
        raise NetworkError(f"{url} did not answer JSON") from error
    if not isinstance(document, dict):
        raise NetworkError(f"{url} did not answer a JSON object")
    return document


def post_activity(inbox: str, body: bytes, key_id: str, private_pem: str) -> Response:
    headers = {"Content-Type": "application/activity+json", **signatures.sign("POST", inbox, body, key_id, private_pem)}
    return request("POST", inbox, headers, body)
