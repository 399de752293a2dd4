"""HTTP Signatures as Mastodon writes and reads them (draft-cavage-http-signatures-12).

Outgoing: rsa-sha256 over `(request-target) host date` (GET) or
`(request-target) host date digest` (POST), with `Digest: SHA-256=<base64>`
of the exact body. Incoming: the same, plus `hs2019` (the draft's later name
for the same RSA signature), `(created)` and `(expires)`. A POST must sign
its digest, and the digest must match the body; the date (or `created`) must
be within the window Mastodon uses: an hour ahead, a day behind at most
(we take 12 hours behind, the Date + 5 minutes Mastodon checks plus skew)."""

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MAX_AGE = timedelta(hours=12)
MAX_AHEAD = timedelta(hours=1)
ALGORITHMS = {"rsa-sha256", "hs2019"}
_PARAM = re.compile(r'\s*([a-zA-Z]+)\s*=\s*(?:"([^"]*)"|([0-9.]+))\s*(?:,|$)')


class SignatureError(Exception):
    """The request is not signed as it should be; the message says how."""


@dataclass(frozen=True)
class Signature:
    key_id: str
    algorithm: str
    headers: list[str]
    signature: bytes
    created: int | None = None
    expires: int | None = None


def new_key_pair() -> tuple[str, str]:
    """A fresh 2048-bit RSA key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(when: datetime | None = None) -> str:
    return format_datetime((when or datetime.now(UTC)).astimezone(UTC), usegmt=True)


def _signing_string(names: list[str], method: str, target: str, headers: dict[str, str], sig: Signature | None) -> str:
    lines = []
    for name in names:
        if name == "(request-target)":
            value = f"{method.lower()} {target}"
        elif name == "(created)" and sig is not None and sig.created is not None:
            value = str(sig.created)
        elif name == "(expires)" and sig is not None and sig.expires is not None:
            value = str(sig.expires)
        elif name in headers:
            value = headers[name]
        else:
            raise SignatureError(f"The signed header {name!r} is missing.")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=64)
def _private_key(private_pem: str) -> rsa.RSAPrivateKey:
    """Loaded once per process: loading checks the key, which costs ~50 ms, and our own keys need no check."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignatureError("Only RSA keys sign here.")
    return key


def sign(method: str, url: str, body: bytes | None, key_id: str, private_pem: str) -> dict[str, str]:
    """The headers that sign a request to `url` (Host, Date, Digest for a body, Signature)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"host": parts.netloc, "date": http_date()}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["digest"] = digest(body)
        names.append("digest")
    text = _signing_string(names, method, target, headers, None)
    value = base64.b64encode(
        _private_key(private_pem).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    headers["signature"] = f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",signature="{value}"'
    return {name.title(): value for name, value in headers.items()}


def parse(header: str) -> Signature:
    """The parameters of a Signature header; SignatureError if it is not one."""
    params: dict[str, str] = {}
    for match in _PARAM.finditer(header):
        params[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
    if "keyId" not in params or "signature" not in params:
        raise SignatureError("The Signature header needs a keyId and a signature.")
    try:
        raw = base64.b64decode(params["signature"], validate=True)
    except ValueError as error:
        raise SignatureError("The signature is not base64.") from error

    def number(name: str) -> int | None:
        value = params.get(name)
        return int(float(value)) if value else None

    return Signature(
        key_id=params["keyId"],
        algorithm=params.get("algorithm", "hs2019").lower(),
        headers=params.get("headers", "(created)").lower().split(),
        signature=raw,
        created=number("created"),
        expires=number("expires"),
    )


def _check_time(sig: Signature, headers: dict[str, str], now: datetime) -> None:
    if sig.created is not None:
        signed_at = datetime.fromtimestamp(sig.created, UTC)
    elif "date" in sig.headers:
        try:
            signed_at = parsedate_to_datetime(headers["date"])
        except (TypeError, ValueError, KeyError) as error:
            raise SignatureError("The Date header is not an HTTP date.") from error
    else:
        raise SignatureError("The signature must cover the date or (created).")
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    if sig.expires is not None and datetime.fromtimestamp(sig.expires, UTC) < now:
        raise SignatureError("The signature has expired.")
    if not now - MAX_AGE <= signed_at <= now + MAX_AHEAD:
        raise SignatureError("The request was signed outside the accepted time window.")


def verify(
    method: str, target: str, headers: dict[str, str], body: bytes, sig: Signature, public_pem: str,
    *, now: datetime | None = None,
) -> None:  # fmt: skip
    """Raise SignatureError unless `sig` signs this request with the key in `public_pem`.

    `headers` are the request's headers with lower-case names; `target` is the
    path with its query string, as the sender saw it."""
    if sig.algorithm not in ALGORITHMS:
        raise SignatureError(f"The algorithm {sig.algorithm!r} is not supported.")
    if "(request-target)" not in sig.headers:
        raise SignatureError("The signature must cover (request-target).")
    if method.upper() == "POST":
        if "digest" not in sig.headers:
            raise SignatureError("A POST must sign its Digest.")
        expected = digest(body).split("=", 1)[1]
        given = dict(part.strip().partition("=")[::2] for part in headers.get("digest", "").split(","))
        if {name.upper(): value for name, value in given.items()}.get("SHA-256") != expected:
            raise SignatureError("The Digest does not match the body.")
    _check_time(sig, headers, now or datetime.now(UTC))
    text = _signing_string(sig.headers, method, target, headers, sig)
    key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("Only RSA keys are supported.")
    try:
        key.verify(sig.signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as error:
        raise SignatureError("The signature does not match.") from error
