"""The only way federation reaches another server: signed GETs of actors and
objects, signed POSTs to inboxes.

Every request resolves the host first and refuses any address that is not
public, then connects to the very address it checked (blog/shared/outbound.py).
Only https, unless FEDERATION_ALLOW_PRIVATE_ADDRESSES (tests and the
two-site drill on loopback). Responses are read up to a size limit,
redirects are not followed, and every call has a timeout."""

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from blog.federation import signatures
from blog.shared import outbound

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


def resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, checked address) for a URL federation may reach; RefusedAddress otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES):
        raise RefusedAddress(f"Only https URLs are fetched: {url}")
    if not parts.hostname:
        raise RefusedAddress(f"No host in {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allow = outbound.EVERYWHERE if settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES else ()
    try:
        address = outbound.checked_addresses(parts.hostname, port, allow)[0]
    except outbound.Unresolved as error:
        raise NetworkError(f"{parts.hostname} does not resolve") from error
    except outbound.Refused as error:
        raise RefusedAddress(f"{parts.hostname} resolves to an address federation does not reach") from error
    return parts.scheme, parts.hostname, port, address


def request(method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> Response:
    scheme, host, port, address = resolve(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = outbound.connection(
        host, port, address, https=scheme == "https", timeout=settings.FEDERATION_TIMEOUT_SECONDS
    )
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
