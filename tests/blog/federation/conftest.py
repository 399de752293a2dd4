"""A remote fediverse server on loopback for the federation tests: it serves
its actors' documents and records what Dispatch POSTs to its inboxes, so
delivery and key fetching go over real HTTP (FEDERATION_ALLOW_PRIVATE_ADDRESSES)."""

import functools
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from blog.federation import signatures


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def activity(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class FakeServer:
    base: str
    documents: dict[str, bytes] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)  # path -> status to answer POSTs with
    lock: threading.Lock = field(default_factory=threading.Lock)
    # pytest-django's django_capture_on_commit_callbacks: what Dispatch queues after commit runs.
    capture: Any = None

    @property
    def domain(self) -> str:
        return urlsplit(self.base).netloc

    def posts_to(self, path: str) -> list[Received]:
        with self.lock:
            return [item for item in self.received if item.path == path]


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = server.documents.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/activity+json")
            self.end_headers()
            self.wfile.write(body or b"{}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with server.lock:
                server.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(server.answers.get(self.path, 202))
            self.end_headers()

    return Handler


@pytest.fixture
def remote_server(settings, django_capture_on_commit_callbacks) -> Iterator[FakeServer]:
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(FakeServer("")))
    fake = FakeServer(f"http://127.0.0.1:{httpd.server_address[1]}", capture=django_capture_on_commit_callbacks)
    httpd.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


@functools.cache
def key_pair(name: str) -> tuple[str, str]:
    """One key pair per account name for the whole run: RSA key generation is the slow part."""
    return signatures.new_key_pair()


@dataclass
class RemoteAccount:
    """An account on the fake server, with its own key, that can sign requests to Dispatch."""

    server: FakeServer
    name: str
    private_pem: str = ""
    public_pem: str = ""

    def __post_init__(self) -> None:
        self.private_pem, self.public_pem = key_pair(self.name)
        self.server.documents[f"/users/{self.name}"] = json.dumps(self.document()).encode()

    @property
    def id(self) -> str:
        return f"{self.server.base}/users/{self.name}"

    @property
    def inbox_path(self) -> str:
        return f"/users/{self.name}/inbox"

    def document(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.id, "type": "Person", "preferredUsername": self.name, "name": self.name.title(),
            "inbox": f"{self.server.base}{self.inbox_path}", "endpoints": {"sharedInbox": f"{self.server.base}/inbox"},
            "icon": {"type": "Image", "url": f"{self.server.base}/avatar.png"},
            "publicKey": {"id": f"{self.id}#main-key", "owner": self.id, "publicKeyPem": self.public_pem},
        }  # fmt: skip

    def activity(self, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        uri = f"{self.id}#{kind.lower()}-{uuid.uuid4().hex}"
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": uri, "type": kind, "actor": self.id,
                "object": obj, **extra}  # fmt: skip

    def note(self, in_reply_to: str, html: str, *, public: bool = True) -> dict[str, Any]:
        audience = ["https://www.w3.org/ns/activitystreams#Public"] if public else [f"{self.id}/followers"]
        return {
            "id": f"{self.id}/statuses/{uuid.uuid4().hex}", "type": "Note", "attributedTo": self.id,
            "inReplyTo": in_reply_to, "content": html, "to": audience, "cc": [],
            "url": f"{self.server.base}/@{self.name}/1",
        }  # fmt: skip

    def send(self, client: Client, activity: dict[str, Any], path: str = "/ap/inbox", **headers: str):
        """POST `activity` to Dispatch's inbox, signed as Mastodon signs it."""
        body = json.dumps(activity).encode()
        signed = signatures.sign("POST", f"http://testserver{path}", body, f"{self.id}#main-key", self.private_pem)
        signed = {name: value for name, value in signed.items() if name != "Host"}
        with self.server.capture(execute=True):
            return client.post(path, data=body, content_type="application/activity+json", headers={**signed, **headers})


@pytest.fixture
def mastodon_user(remote_server: FakeServer) -> RemoteAccount:
    return RemoteAccount(remote_server, "alice")


@pytest.fixture(autouse=True)
def _publication_key(db) -> None:
    """The publication's key pair made once per run, not once per test."""
    from blog.models import ActorKey

    private, public = key_pair("dispatch-publication")
    ActorKey.objects.create(actor="publication", private_pem=private, public_pem=public)
